"""MobileNetV2 (inverted residuals, depthwise convs) and a MobileNetV3-small-style net
(squeeze-excitation, hard-swish), both with CIFAR-style strides for 32x32 inputs."""
from __future__ import annotations

from torch import nn

from pipeline.models.registry import register_model


def _conv_bn(cin: int, cout: int, k: int, stride: int, groups: int, act: type | None):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else [_conv_bn(cin, hidden, 1, 1, 1, nn.ReLU6)]
        layers += [_conv_bn(hidden, hidden, 3, stride, hidden, nn.ReLU6),
                   _conv_bn(hidden, cout, 1, 1, 1, None)]
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and cin == cout

    def forward(self, x):
        out = self.block(x)
        return x + out if self.use_residual else out


class MobileNetV2(nn.Module):
    # (expansion t, output channels c, repeats n, first stride s), CIFAR strides
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, num_classes: int = 10, in_channels: int = 3, settings=None,
                 stem: int = 32, last: int = 1280, stem_stride: int = 1):
        super().__init__()
        # stem_stride 2 is ImageNet's stem (for 96-224 pixel inputs); 1 keeps CIFAR's 32x32 maps
        layers = [_conv_bn(in_channels, stem, 3, stem_stride, 1, nn.ReLU6)]
        cin = stem
        for t, c, n, s in settings or self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_conv_bn(cin, last, 1, 1, 1, nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(last, num_classes)

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeeze, 1)
        self.relu = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x):
        return x * self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))


def _make_divisible(v: float, divisor: int = 8) -> int:
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


class Bneck(nn.Module):
    def __init__(self, cin: int, kernel: int, hidden: int, cout: int, se: bool, act: type, stride: int):
        super().__init__()
        layers = [] if hidden == cin else [_conv_bn(cin, hidden, 1, 1, 1, act)]
        layers.append(_conv_bn(hidden, hidden, kernel, stride, hidden, act))
        if se:
            layers.append(SqueezeExcite(hidden, _make_divisible(hidden / 4)))
        layers.append(_conv_bn(hidden, cout, 1, 1, 1, None))
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and cin == cout

    def forward(self, x):
        out = self.block(x)
        return x + out if self.use_residual else out


RE, HS = nn.ReLU, nn.Hardswish


class MobileNetV3Small(nn.Module):
    # (kernel, hidden, out, SE, activation, stride) of MobileNetV3-small; CIFAR stem stride 1
    SETTINGS = [(3, 16, 16, True, RE, 2), (3, 72, 24, False, RE, 2), (3, 88, 24, False, RE, 1),
                (5, 96, 40, True, HS, 2), (5, 240, 40, True, HS, 1), (5, 240, 40, True, HS, 1),
                (5, 120, 48, True, HS, 1), (5, 144, 48, True, HS, 1), (5, 288, 96, True, HS, 2),
                (5, 576, 96, True, HS, 1), (5, 576, 96, True, HS, 1)]

    def __init__(self, num_classes: int = 10, in_channels: int = 3, settings=None,
                 stem: int = 16, last: int = 576, head: int = 1024):
        super().__init__()
        layers = [_conv_bn(in_channels, stem, 3, 1, 1, HS)]
        cin = stem
        for kernel, hidden, cout, se, act, stride in settings or self.SETTINGS:
            layers.append(Bneck(cin, kernel, hidden, cout, se, act, stride))
            cin = cout
        layers.append(_conv_bn(cin, last, 1, 1, 1, HS))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(last, head), nn.Hardswish(inplace=True),
                                        nn.Linear(head, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))


@register_model("mobilenetv2")
def mobilenetv2(num_classes: int = 10, in_channels: int = 3) -> MobileNetV2:
    return MobileNetV2(num_classes, in_channels)


@register_model("mobilenetv2-tiny")
def mobilenetv2_tiny(num_classes: int = 10, in_channels: int = 3) -> MobileNetV2:
    settings = [(1, 8, 1, 1), (2, 8, 2, 2), (2, 16, 2, 2)]
    return MobileNetV2(num_classes, in_channels, settings, stem=8, last=32)


@register_model("mobilenetv3")
def mobilenetv3(num_classes: int = 10, in_channels: int = 3) -> MobileNetV3Small:
    return MobileNetV3Small(num_classes, in_channels)


@register_model("mobilenetv3-tiny")
def mobilenetv3_tiny(num_classes: int = 10, in_channels: int = 3) -> MobileNetV3Small:
    settings = [(3, 8, 8, True, RE, 2), (3, 16, 8, False, RE, 1),
                (5, 24, 16, True, HS, 2), (5, 32, 16, True, HS, 1)]
    return MobileNetV3Small(num_classes, in_channels, settings, stem=8, last=32, head=32)
