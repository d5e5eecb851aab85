"""data.channels=auto: the channel count a model's first convolution expects."""
from __future__ import annotations


def first_conv_in_channels(model) -> int | None:
    """in_channels of the first Conv2d in module order, or None when the model has none."""
    from torch import nn

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return int(m.in_channels)
    return None
