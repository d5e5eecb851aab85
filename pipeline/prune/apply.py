"""Turn a genome (kept channels per group) into a really smaller model.

Every function that returns a model works on a deep copy: the caller's model (weights,
gradients, train/eval mode) is never touched, except by `soft_prune`, which is in place on
purpose. A plan is `{group name: sorted channel indices removed}` in the root layer's numbering.
"""
from __future__ import annotations

import copy

from pipeline.errors import UserError
from pipeline.prune.graph import as_tp_inputs, build_graph, forward, iter_groups
from pipeline.prune.importance import get_importance


def prunable_groups(dg, model) -> dict:
    """Groups a genome may name: not feeding the model output, nothing blocking."""
    return {g.name: g for g in iter_groups(dg, model) if not g.reaches_output and not g.blockers}


def _check_names(names, groups: dict, what: str) -> None:
    unknown = [n for n in names if n not in groups]
    if unknown:
        raise UserError(f"{what} names unknown group '{unknown[0]}'; prunable groups: "
                        f"{', '.join(groups) or 'none'} (see `edgeprune inspect`)")


def _ranked(model, groups: dict, names, importance, batches) -> dict[str, list[int]]:
    """Each named group's channel indices (root numbering), least important first."""
    import torch

    factory = get_importance(importance)  # unknown names fail even when nothing is scored
    if not names:
        return {}
    scorer = factory(model, batches, forward)
    fallback = get_importance("l1")(model, batches, forward)
    order = {}
    for name in names:
        group = groups[name].group
        # A criterion may have nothing to score in a group (bn without BatchNorm): fall back to L1.
        scores = scorer(group)
        if scores is None:
            scores = fallback(group)
        if scores is None:  # no weights at all in the group: drop the last channels
            scores = torch.arange(groups[name].channels, 0, -1, dtype=torch.float32)
        # stable sort: equal scores always lose the same (lowest-index) channels
        order[name] = [int(i) for i in torch.argsort(scores.detach().float().cpu(), stable=True)]
    return order


def _check_keep(name: str, keep, channels: int) -> None:
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= channels:
        raise UserError(f"group '{name}' must keep an integer number of channels in 1..{channels}, "
                        f"got {keep!r}")


def _plan(dg, model, groups: dict, genome: dict, importance: str, batches) -> dict[str, list[int]]:
    _check_names(genome, groups, "the genome")
    to_remove = {}
    for name, keep in genome.items():
        _check_keep(name, keep, groups[name].channels)
        to_remove[name] = groups[name].channels - keep
    order = _ranked(model, groups, [n for n, c in to_remove.items() if c], importance, batches)
    return {name: sorted(order[name][:count]) if count else [] for name, count in to_remove.items()}


def channel_order(model, example_inputs, importance: str = "l1", batches=None,
                  names=None) -> dict[str, list[int]]:
    """{group: its channel indices, most important first} under `importance`: keeping the
    first k of a group is what `apply_genome` does when that group keeps k."""
    work = copy.deepcopy(model)
    dg = build_graph(work, example_inputs)
    groups = prunable_groups(dg, work)
    ranked = _ranked(work, groups, list(names) if names is not None else list(groups),
                     importance, batches)
    return {name: order[::-1] for name, order in ranked.items()}


def plan_from_order(order: dict[str, list[int]], genome: dict) -> dict[str, list[int]]:
    """The plan that keeps, in each group of `genome`, the first `keep` channels of `order`."""
    plan = {}
    for name, keep in genome.items():
        if name not in order:
            raise UserError(f"the genome names group '{name}', which the channel order lacks")
        _check_keep(name, keep, len(order[name]))
        plan[name] = sorted(order[name][keep:])
    return plan


def _prune(dg, groups: dict, plan: dict) -> None:
    for name, idxs in plan.items():
        if not idxs:
            continue
        root = groups[name].root
        pruner = dg.get_pruner_of_module(root)
        dg.get_pruning_group(root, pruner.prune_out_channels, list(idxs)).prune()


def _check_plan(plan: dict, groups: dict) -> dict[str, list[int]]:
    _check_names(plan, groups, "the plan")
    clean = {}
    for name, idxs in plan.items():
        channels = groups[name].channels
        idxs = sorted({int(i) for i in idxs})
        if any(not 0 <= i < channels for i in idxs) or len(idxs) >= channels:
            raise UserError(f"plan for group '{name}' must remove fewer than {channels} channels, "
                            f"each in 0..{channels - 1}")
        clean[name] = idxs
    return clean


def _finish(pruned, original):
    pruned.zero_grad(set_to_none=True)  # Taylor's gradients are not part of the result
    pruned.train(original.training)
    return pruned


def pruning_plan(model, genome: dict, example_inputs, importance: str = "l1",
                 batches=None) -> dict[str, list[int]]:
    """Channel indices each group of `genome` would lose under `importance`."""
    work = copy.deepcopy(model)
    dg = build_graph(work, example_inputs)
    return _plan(dg, work, prunable_groups(dg, work), genome, importance, batches)


def apply_plan(model, plan: dict, example_inputs):
    """A new model with exactly the channels of `plan` removed."""
    work = copy.deepcopy(model)
    dg = build_graph(work, example_inputs)
    groups = prunable_groups(dg, work)
    _prune(dg, groups, _check_plan(plan, groups))
    return _finish(work, model)


def apply_genome(model, genome: dict, example_inputs, importance: str = "l1", batches=None):
    """A new model where each group of `genome` keeps that many channels (missing: all).

    One dependency graph per call, built on the copy: scoring and cutting share it.
    """
    work = copy.deepcopy(model)
    dg = build_graph(work, example_inputs)
    groups = prunable_groups(dg, work)
    _prune(dg, groups, _plan(dg, work, groups, dict(genome), importance, batches))
    return _finish(work, model)


def soft_prune(model, plan: dict, example_inputs, factor: float) -> None:
    """In place: multiply the parameters producing the planned channels (conv/linear filters
    and their BatchNorm weight and bias) by `factor`. 0 zeroes them (soft filter pruning);
    the architecture does not change, so training can let them grow back."""
    import torch
    import torch_pruning as tp

    was_training = model.training
    try:
        dg = build_graph(model, example_inputs)
        groups = prunable_groups(dg, model)
        plan = _check_plan(plan, groups)
        with torch.no_grad():
            for name, idxs in plan.items():
                if not idxs:
                    continue
                root = groups[name].root
                pruner = dg.get_pruner_of_module(root)
                for dep, dep_idxs in dg.get_pruning_group(root, pruner.prune_out_channels, idxs):
                    layer = dep.target.module
                    if not dg.is_out_channel_pruning_fn(dep.handler):
                        continue  # consumers' input weights stay: only producers are softened
                    if not isinstance(layer, (tp.ops.TORCH_CONV, tp.ops.TORCH_LINEAR, tp.ops.TORCH_BATCHNORM)):
                        continue
                    index = torch.tensor(sorted(dep_idxs), dtype=torch.long)
                    if getattr(layer, "weight", None) is not None:
                        dim = 1 if getattr(layer, "transposed", False) else 0
                        layer.weight.index_copy_(dim, index, layer.weight.index_select(dim, index) * factor)
                    if getattr(layer, "bias", None) is not None:
                        layer.bias[index] *= factor
    finally:
        model.train(was_training)


def count_params_macs(model, example_inputs) -> tuple[int, int]:
    """(parameters, multiply-accumulates) of one forward pass on `example_inputs`."""
    import torch
    import torch_pruning as tp

    with torch.no_grad():
        macs, params = tp.utils.count_ops_and_params(model, as_tp_inputs(example_inputs))
    return int(params), int(macs)
