"""LeNet-5, the model of the seed paper (Yang et al. 2019), for 32x32 inputs."""
from __future__ import annotations

from torch import nn

from pipeline.models.registry import register_model


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84)):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(widths[0], widths[1], 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        # Flatten into Linear: the classic 16*5*5 input of fc1 for a 32x32 image.
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(widths[1] * 5 * 5, hidden[0]), nn.ReLU(inplace=True),
            nn.Linear(hidden[0], hidden[1]), nn.ReLU(inplace=True),
            nn.Linear(hidden[1], num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model("lenet5")
def lenet5(num_classes: int = 10, in_channels: int = 3) -> LeNet5:
    return LeNet5(num_classes, in_channels)


@register_model("lenet5-tiny")
def lenet5_tiny(num_classes: int = 10, in_channels: int = 3) -> LeNet5:
    return LeNet5(num_classes, in_channels, widths=(4, 8), hidden=(16, 12))
