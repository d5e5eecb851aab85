"""VGG-11/16 with batch norm, CIFAR-style (one Linear classifier after global pooling)."""
from __future__ import annotations

from torch import nn

from pipeline.models.registry import register_model

# Numbers are conv widths, "M" a 2x2 max-pool.
CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, config: list, num_classes: int = 10, in_channels: int = 3, width_div: int = 1):
        super().__init__()
        layers, channels = [], in_channels
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                width = max(item // width_div, 1)
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                channels = width
        self.features = nn.Sequential(*layers)
        # Global pooling keeps the classifier valid for inputs other than 32x32.
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))


def _make(name: str, width_div: int):
    def factory(num_classes: int = 10, in_channels: int = 3) -> VGG:
        return VGG(CONFIGS[name], num_classes, in_channels, width_div)
    return factory


for _name in CONFIGS:
    register_model(_name)(_make(_name, 1))
    register_model(f"{_name}-tiny")(_make(_name, 16))
