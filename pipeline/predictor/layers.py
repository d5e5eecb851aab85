"""The shape of every conv/linear layer as a linear function of a genome, without pruning.

Built once per model: one dependency graph, then each group loses one channel in turn and the
change of every layer's in/out channels and groups is recorded. A genome's layer shapes are
then `full - coefficients @ removed` (numpy, thousands of genomes per millisecond), which is
what lets the predictor screen many more architectures than the device can measure. The
measured change also covers what a rule would get wrong: a linear layer after a flatten
loses H*W inputs per channel, a concat's consumer loses channels from two groups, a depthwise
conv loses groups with its channels.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from pipeline.errors import UserError


@dataclass(frozen=True)
class LayerTable:
    group_names: tuple[str, ...]          # genome order
    group_channels: tuple[int, ...]       # full count per group
    layer_names: tuple[str, ...]
    kind: tuple[str, ...]                 # conv | pointwise | depthwise | linear
    kernel: tuple[int, ...]               # kh * kw (1 for linear)
    out_hw: tuple[int, ...]               # output positions per image (1 for linear)
    in_hw: tuple[int, ...]                # input positions per image
    full: tuple[tuple[int, int, int], ...]            # (in, out, groups) of the unpruned layer
    coef: tuple[tuple[tuple[int, ...], ...], ...]     # [dim][layer][group]: lost per channel cut

    @classmethod
    def from_model(cls, model, space, example_inputs) -> "LayerTable":
        import copy

        from pipeline.prune.apply import prunable_groups
        from pipeline.prune.graph import build_graph

        shapes = _spatial_sizes(model, example_inputs)
        if not shapes:
            raise UserError("the model has no conv or linear layer that runs on the example "
                            "input; a latency predictor needs at least one")
        work = copy.deepcopy(model)
        dg = build_graph(work, example_inputs)
        groups = prunable_groups(dg, work)
        modules = dict(work.named_modules())
        names = tuple(shapes)
        before = np.array([_dims(modules[n]) for n in names])
        full = before.copy()
        coef = np.zeros((3, len(names), len(space.groups)), dtype=np.int64)
        for gi, group in enumerate(space.groups):
            if group.channels < 2 or group.name not in groups:
                continue  # nothing to cut: its layers' shapes never change
            root = groups[group.name].root
            pruner = dg.get_pruner_of_module(root)
            dg.get_pruning_group(root, pruner.prune_out_channels, [group.channels - 1]).prune()
            after = np.array([_dims(modules[n]) for n in names])
            coef[:, :, gi] = (before - after).T
            before = after
        kinds = tuple(_kind(modules[n], full[i]) for i, n in enumerate(names))
        return cls(tuple(g.name for g in space.groups), tuple(g.channels for g in space.groups),
                   names, kinds, tuple(shapes[n][0] for n in names),
                   tuple(shapes[n][1] for n in names), tuple(shapes[n][2] for n in names),
                   tuple(tuple(int(v) for v in row) for row in full),
                   tuple(tuple(tuple(int(v) for v in row) for row in dim) for dim in coef))

    # --- genomes -> shapes -----------------------------------------------------------------
    def kept(self, genomes: list[dict]) -> np.ndarray:
        """N x G kept channels; groups a genome leaves out keep all."""
        index = {n: i for i, n in enumerate(self.group_names)}
        out = np.tile(np.asarray(self.group_channels, dtype=np.int64), (len(genomes), 1))
        for row, genome in enumerate(genomes):
            for name, keep in genome.items():
                i = index.get(name)
                if i is None:
                    raise UserError(f"the genome names group '{name}', which this model's "
                                    "predictor does not know; refit it for this model")
                if not 1 <= int(keep) <= self.group_channels[i]:
                    raise UserError(f"group '{name}' must keep 1..{self.group_channels[i]} "
                                    f"channels, got {keep}")
                out[row, i] = int(keep)
        return out

    def shapes(self, genomes: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(in, out, groups), each N x L, of every layer for each genome."""
        removed = np.asarray(self.group_channels, dtype=np.int64) - self.kept(genomes)
        full = np.asarray(self.full, dtype=np.int64)            # L x 3
        coef = np.asarray(self.coef, dtype=np.int64)            # 3 x L x G
        dims = full.T[:, None, :] - np.einsum("dlg,ng->dnl", coef, removed)
        return tuple(np.maximum(d, 1) for d in dims)            # type: ignore[return-value]

    # --- identity and JSON ---------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"group_names": list(self.group_names), "group_channels": list(self.group_channels),
                "layer_names": list(self.layer_names), "kind": list(self.kind),
                "kernel": list(self.kernel), "out_hw": list(self.out_hw), "in_hw": list(self.in_hw),
                "full": [list(r) for r in self.full],
                "coef": [[list(r) for r in dim] for dim in self.coef]}

    @classmethod
    def from_dict(cls, data: dict) -> "LayerTable":
        try:
            return cls(tuple(str(n) for n in data["group_names"]),
                       tuple(int(c) for c in data["group_channels"]),
                       tuple(str(n) for n in data["layer_names"]),
                       tuple(str(k) for k in data["kind"]),
                       tuple(int(k) for k in data["kernel"]), tuple(int(v) for v in data["out_hw"]),
                       tuple(int(v) for v in data["in_hw"]),
                       tuple(tuple(int(v) for v in r) for r in data["full"]),
                       tuple(tuple(tuple(int(v) for v in r) for r in dim) for dim in data["coef"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"stored predictor has a malformed layer table ({exc}); refit it with "
                            "`edgeprune predictor fit`") from None

    def digest(self) -> str:
        """Same structure, same digest: a predictor is reused only for the model it was fitted on."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _dims(module) -> tuple[int, int, int]:
    if hasattr(module, "in_features"):
        return module.in_features, module.out_features, 1
    return module.in_channels, module.out_channels, module.groups


def _kind(module, full) -> str:
    if hasattr(module, "in_features"):
        return "linear"
    in_c, out_c, groups = full
    if groups > 1 and groups == in_c == out_c:
        return "depthwise"
    kernel = int(np.prod(module.kernel_size))
    return "pointwise" if kernel == 1 else "conv"


def _spatial_sizes(model, example_inputs) -> dict[str, tuple[int, int, int]]:
    """{layer: (kernel positions, output positions, input positions)} for layers that ran,
    in execution order (a layer that runs twice keeps its first call)."""
    import torch

    from pipeline.prune.graph import forward

    found: dict[str, tuple[int, int, int]] = {}

    def hook(name):
        def record(module, inputs, output):
            if name in found or not isinstance(output, torch.Tensor):
                return
            if isinstance(module, torch.nn.Linear):
                found[name] = (1, 1, 1)
            else:
                kernel = int(np.prod(module.kernel_size))
                found[name] = (kernel, int(np.prod(output.shape[2:])),
                               int(np.prod(inputs[0].shape[2:])))
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()
               if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            forward(model, example_inputs)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return found
