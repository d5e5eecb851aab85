"""Feature mimicry: where to tap teacher and student, and the 1x1 projections between them.

Which layers: for each spatial resolution the network computes, the module that *finishes
last* at that resolution. In a CIFAR ResNet that is each residual stage (layer1, layer2,
layer3: the output after the final add and ReLU of the stage); in a plain VGG-style stack it
is the last block before each downsampling. This needs no per-model table, and a pruned
student has the teacher's module names, so the same names tap both. Only the channel
counts differ; a 1x1 convolution maps the student's width to the teacher's where they do.
"""
from __future__ import annotations


def mimicry_layers(model, example_input) -> list[str]:
    """Names of the modules whose outputs are mimicked (one per spatial resolution)."""
    import torch

    calls: dict[str, int] = {}
    finished: list[tuple[str, tuple]] = []
    handles = []
    root = model

    def hook(name):
        def fn(_module, _inp, out):
            calls[name] = calls.get(name, 0) + 1
            if isinstance(out, torch.Tensor) and out.dim() == 4:
                finished.append((name, tuple(out.shape[-2:])))
        return fn

    for name, module in model.named_modules():
        if module is not root:
            handles.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example_input)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    last_at: dict[tuple, str] = {}
    for name, hw in finished:
        if calls[name] == 1:  # a module reused in one forward has no single output to tap
            last_at[hw] = name
    return list(last_at.values())


class FeatureTaps:
    """Forward hooks that keep the latest output of each named module."""

    def __init__(self, model, names: list[str]):
        modules = dict(model.named_modules())
        self.outputs: dict[str, object] = {}
        self._handles = [modules[n].register_forward_hook(self._keep(n)) for n in names]

    def _keep(self, name):
        def fn(_module, _inp, out):
            self.outputs[name] = out
        return fn

    def close(self):
        for h in self._handles:
            h.remove()
        self._handles = []


def build_projections(student, teacher, names: list[str], example_input):
    """One 1x1 conv per tapped layer whose student width differs from the teacher's, else identity."""
    import torch
    import torch.nn as nn

    widths = {}
    for tag, model in (("s", student), ("t", teacher)):
        taps = FeatureTaps(model, names)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(example_input)
        model.train(was_training)
        taps.close()
        widths[tag] = {n: taps.outputs[n].shape[1] for n in names}
    proj = nn.ModuleDict()
    for i, n in enumerate(names):
        cs, ct = widths["s"][n], widths["t"][n]
        proj[str(i)] = nn.Identity() if cs == ct else nn.Conv2d(cs, ct, 1, bias=False)
    return proj


def mimicry_loss(proj, student_taps: FeatureTaps, teacher_taps: FeatureTaps, names: list[str]):
    """Mean over layers of the MSE between projected student features and teacher features."""
    import torch.nn.functional as F

    losses = [F.mse_loss(proj[str(i)](student_taps.outputs[n]), teacher_taps.outputs[n])
              for i, n in enumerate(names)]
    return sum(losses) / len(losses)
