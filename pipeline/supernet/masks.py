"""Channel masks: one set of weights behaves as any genome's pruned model.

For a genome, every layer whose output channels belong to a pruned group (convolutions,
linears, BatchNorms: the group's producers in torch-pruning's dependency graph) has the
removed channels multiplied by 0 after it runs. A removed channel is then exactly 0 wherever
it goes (into a residual sum, a concatenation, the next convolution), which is what removing
it does; `tests/supernet` checks the masked model against `apply_plan`'s real one.
Which channels a group keeps comes from a fixed order (most important first), so the same
genome always means the same channels, in training and when the model is really pruned.
"""
from __future__ import annotations


class ChannelMasks:
    def __init__(self, model, example_inputs, order: dict[str, list[int]]):
        import torch
        import torch_pruning as tp

        from pipeline.prune.apply import prunable_groups
        from pipeline.prune.graph import build_graph

        self.model, self.order = model, order
        was_training = model.training
        dg = build_graph(model, example_inputs)   # traces only: the model is not changed
        model.train(was_training)
        groups = prunable_groups(dg, model)
        kinds = (tp.ops.TORCH_CONV, tp.ops.TORCH_LINEAR, tp.ops.TORCH_BATCHNORM)
        # name -> [(module, tensor: root channel i is the module's output channel t[i])]
        self.producers: dict[str, list] = {}
        self.width: dict[object, int] = {}
        for name in order:
            found = []
            for dep, idxs in groups[name].group:
                layer = dep.target.module
                if isinstance(layer, kinds) and dg.is_out_channel_pruning_fn(dep.handler):
                    found.append((layer, torch.as_tensor(list(idxs), dtype=torch.long)))
                    self.width[layer] = dg.get_pruner_of_module(layer).get_out_channels(layer)
            self.producers[name] = found
        self.masks: dict[object, object] = {}
        self.handles = [m.register_forward_hook(self._hook) for m in self.width]

    def _hook(self, module, inputs, output):
        mask = self.masks.get(module)
        if mask is None:
            return output
        shape = [1, -1] + [1] * (output.dim() - 2)
        return output * mask.to(output.device, output.dtype).view(shape)

    def set(self, genome: dict[str, int] | None) -> None:
        """Mask what `genome` removes; None (or the full genome) masks nothing."""
        import torch

        self.masks = {}
        for name, keep in (genome or {}).items():
            removed = self.order[name][keep:]
            if not removed:
                continue
            for layer, index in self.producers[name]:
                mask = self.masks.get(layer)
                if mask is None:
                    mask = self.masks[layer] = torch.ones(self.width[layer])
                mask[index[torch.as_tensor(removed, dtype=torch.long)]] = 0.0

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles, self.masks = [], {}
