"""Models the benchmarks define themselves (user-model references, `bench.models:<factory>`)."""
from __future__ import annotations


def mobilenetv2_lite(num_classes: int = 10, in_channels: int = 1):
    """MobileNetV2 blocks (inverted residuals, depthwise 3x3) at 32x32 input, shortened and with
    stride in the second stage: the zoo's CIFAR-stride MobileNetV2 (92 MMACs) costs about 4x
    ResNet-20 per training step here, more than the benchmark's time budget allows."""
    from pipeline.models.zoo.mobilenet import MobileNetV2

    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 2, 2), (6, 96, 1, 1)]
    return MobileNetV2(num_classes, in_channels, settings, stem=16, last=320)
