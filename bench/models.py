"""Models the benchmarks define themselves (user-model references, `bench.models:<factory>`)."""
from __future__ import annotations


def mobilenetv2_lite(num_classes: int = 10, in_channels: int = 1):
    """MobileNetV2 blocks (inverted residuals, depthwise 3x3) at 32x32 input, shortened and with
    stride in the second stage: the zoo's CIFAR-stride MobileNetV2 (92 MMACs) costs about 4x
    ResNet-20 per training step here, more than the benchmark's time budget allows."""
    from pipeline.models.zoo.mobilenet import MobileNetV2

    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 2, 2), (6, 96, 1, 1)]
    return MobileNetV2(num_classes, in_channels, settings, stem=16, last=320)


def mobilenetv2_224(num_classes: int = 10, in_channels: int = 3):
    """The same shortened MobileNetV2 with ImageNet's stride-2 stem, as a user's model for
    96-224 pixel inputs is built (maps /16 at the last stage). The lite model keeps full
    resolution through its first blocks: at 224x224 one training step of 64 images holds 13.7 GB
    of activations (measured); this one 3.9 GB, and 1.5 GB at 16 images."""
    from pipeline.models.zoo.mobilenet import MobileNetV2

    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 2, 2), (6, 96, 1, 1)]
    return MobileNetV2(num_classes, in_channels, settings, stem=16, last=320, stem_stride=2)
