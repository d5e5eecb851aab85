"""torch-pruning's dependency graph, built the way every function here needs it.

- `forward(model, inputs)`: one calling convention for tensors, tuples and dicts.
- Layers torch-pruning does not understand (custom modules with their own parameters) are
  frozen: traced as opaque nodes, so every group that touches them can be left unpruned.
- `iter_groups` names each group by its root layer: the first conv/linear, in
  `named_modules()` order, whose outputs the group prunes. The order does not depend on
  tracing, so the same model always gives the same names and roots.
"""
from __future__ import annotations

from dataclasses import dataclass


def forward(model, inputs):
    """A tensor is the one argument; a tuple/list gives positional arguments; a dict is passed
    as one argument (a model whose forward takes a batch dict). Pass `((a, b),)` for a model
    whose forward takes one tuple."""
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def as_tp_inputs(inputs):
    """The same call, in torch-pruning's convention (it spreads dicts as keyword arguments)."""
    return (inputs,) if isinstance(inputs, dict) else inputs


def output_tensors(out) -> list:
    import torch

    if isinstance(out, torch.Tensor):
        return [out]
    values = out.values() if isinstance(out, dict) else out if isinstance(out, (list, tuple)) else []
    return [t for v in values for t in output_tensors(v)]


def unknown_layers(model) -> dict[str, type]:
    """Modules with parameters of their own that no torch-pruning pruner handles, outermost only."""
    import torch_pruning as tp

    known = set(tp.pruner.function.PrunerBox)
    found: dict[str, type] = {}
    for name, module in model.named_modules():
        if any(name.startswith(f"{n}.") for n in found):
            continue
        own = list(module.parameters(recurse=False))
        if own and tp.ops.module2type(module) not in known:
            found[name] = type(module)
    return found


def _frozen_pruner():
    import torch_pruning as tp

    class FrozenPruner(tp.pruner.function.BasePruningFunc):
        """Never prunes; distinct in/out functions, so nothing propagates through the layer."""

        def prune_out_channels(self, layer, idxs):
            return layer

        def prune_in_channels(self, layer, idxs):
            return layer

        def get_out_channels(self, layer):
            return None

        def get_in_channels(self, layer):
            return None

    return FrozenPruner()


def _guarded_update_index_mapping(graph):
    """torch-pruning's update_index_mapping, one node at a time, each failure recorded.

    Its channel-count inference can come out 0 around a channel shuffle (a view/transpose of
    split-and-concatenated channels, ShuffleNet-style): `x // 0` raised ZeroDivisionError and
    the whole model could not be pruned. Here the node keeps the identity mapping, and
    `graph.edgeprune_untraceable[node]` says why; iter_groups leaves every group through it
    unpruned.
    """
    from torch_pruning import ops
    from torch_pruning.dependency import index_mapping as im

    updates = {ops.OPTYPE.CONCAT: im.update_concat_index_mapping,
               ops.OPTYPE.SPLIT: im.update_split_index_mapping,
               ops.OPTYPE.RESHAPE: im.update_reshape_index_mapping,
               ops.OPTYPE.UNBIND: im.update_unbind_index_mapping,
               ops.OPTYPE.EXPAND: im.update_expand_index_mapping,
               ops.OPTYPE.SLICE: im.update_slice_index_mapping}
    failed = graph.__dict__.setdefault("edgeprune_untraceable", {})
    for node in list(graph.module2node.values()):
        update = updates.get(node.type)
        if update is None or node in failed:
            continue
        try:
            update(graph, node)
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            op = node.type.name.lower()
            failed[node] = (f"torch-pruning cannot map channels through this {op} "
                            f"({type(exc).__name__} in {update.__name__})")


def _install_guard() -> None:
    # graph.py calls index_mapping.update_index_mapping by module attribute: replace it there.
    from torch_pruning.dependency import index_mapping

    if index_mapping.update_index_mapping is not _guarded_update_index_mapping:
        index_mapping.update_index_mapping = _guarded_update_index_mapping


def build_graph(model, example_inputs):
    """DependencyGraph of `model` (puts it in eval mode, as torch-pruning's tracing does)."""
    import torch
    import torch_pruning as tp

    _install_guard()

    frozen = {cls: _frozen_pruner() for cls in set(unknown_layers(model).values())}
    outputs = []

    def keep_outputs(out):
        outputs.extend(output_tensors(out))
        return out

    with torch.enable_grad():
        dg = tp.DependencyGraph().build_dependency(
            model, example_inputs, forward_fn=forward, output_transform=keep_outputs,
            customized_pruners=frozen, verbose=False)
    # When a layer's result is itself a model output, torch-pruning adds no output node after
    # it; these grad_fns let iter_groups see that the layer's channels are the output's.
    dg.edgeprune_output_grad_fns = {t.grad_fn for t in outputs if t.grad_fn is not None}
    return dg


@dataclass
class GraphGroup:
    name: str
    root: object          # the root nn.Module
    group: object         # torch-pruning Group over all the root's output channels
    channels: int
    layers: tuple[str, ...]
    reaches_output: bool  # pruning it would change the model's output shape
    blockers: tuple[str, ...]  # layers that make it unprunable, with the reason


def _failing_function(exc) -> str:
    """The innermost torch-pruning function in the exception's traceback (what to report)."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "torch_pruning" in f.filename and not f.name.startswith("<")]
    return frames[-1].name if frames else "torch-pruning"


def _nearest_layers(node, module_names, limit: int = 4) -> str:
    """The named layers right before and after an unnamed node (a view, a cat...)."""
    found, seen, frontier = [], {node}, [node]
    while frontier and len(found) < limit:
        nxt = []
        for n in frontier:
            for m in (*n.inputs, *n.outputs):
                if m in seen:
                    continue
                seen.add(m)
                if m.module in module_names and module_names[m.module]:
                    found.append(module_names[m.module])
                else:
                    nxt.append(m)
        frontier = nxt
    return "near " + ", ".join(sorted(set(found))[:limit]) if found else "an unnamed operation"


def _is_grouped_conv(module) -> bool:
    import torch_pruning as tp

    return (isinstance(module, tp.ops.TORCH_CONV) and module.groups > 1
            and not (module.groups == module.out_channels == module.in_channels))


def iter_groups(dg, model):
    """Every coupled group that has a conv or linear root, in `named_modules()` order."""
    import torch_pruning as tp

    frozen_types = tuple(dg.CUSTOMIZED_PRUNERS)
    untraceable = getattr(dg, "edgeprune_untraceable", {})
    module_names = {m: n for n, m in model.named_modules()}
    order = {m: i for i, m in enumerate(module_names)}
    visited = set()
    for name, module in model.named_modules():
        if module in visited or module not in dg.module2node:
            continue
        if not isinstance(module, (tp.ops.TORCH_CONV, tp.ops.TORCH_LINEAR)):
            continue
        if frozen_types and isinstance(module, frozen_types):
            continue
        pruner = dg.get_pruner_of_module(module)
        channels = pruner.get_out_channels(module)
        try:
            group = dg.get_pruning_group(module, pruner.prune_out_channels, list(range(channels)))
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            # Same family of failure as in _guarded_update_index_mapping, met while following
            # this layer's channels: the layer stays unpruned, the others are still searched.
            yield GraphGroup(name, module, None, channels, (name,), False, (
                f"{name} (torch-pruning cannot follow its channels: {type(exc).__name__} in "
                f"{_failing_function(exc)})",))
            continue
        layers, reaches_output, blockers = [], False, []
        for dep, _ in group:
            for node in (dep.source, dep.target):
                if node in untraceable:
                    where = _nearest_layers(node, module_names)
                    note = f"{where} ({untraceable[node]})"
                    if note not in blockers:
                        blockers.append(note)
            target = dep.target.module
            if dep.target.type == tp.ops.OPTYPE.OUTPUT or (
                    dep.target.grad_fn in dg.edgeprune_output_grad_fns
                    and dg.is_out_channel_pruning_fn(dep.handler)):
                reaches_output = True
            if target not in module_names:
                continue  # functional ops (add, cat, ...) have no name
            layers.append(target)
            if dg.is_out_channel_pruning_fn(dep.handler):
                visited.add(target)
            if frozen_types and isinstance(target, frozen_types):
                blockers.append(f"{module_names[target]} ({type(target).__name__}: not understood "
                                "by torch-pruning)")
            elif _is_grouped_conv(target):
                blockers.append(f"{module_names[target]} (grouped conv, groups={target.groups})")
        names = tuple(module_names[m] for m in sorted(set(layers), key=order.__getitem__))
        yield GraphGroup(name, module, group, channels, names, reaches_output, tuple(blockers))
