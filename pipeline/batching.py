"""How many images one no-grad forward pass takes (evaluation, parity checks, BN re-calibration).

A fixed count does not scale with the input: 256 images of 224x224 through a MobileNetV2 hold
several GB of activations at once. The batch is bounded by pixels instead: 256 images up to
64x64, fewer as images grow (113 at 96x96, 20 at 224x224). Accuracy does not depend on it.
"""
from __future__ import annotations

MOST_IMAGES = 256
PIXELS_PER_PASS = MOST_IMAGES * 64 * 64


def inference_batch(x, most: int = MOST_IMAGES) -> int:
    """Images per forward pass for inputs shaped like `x` (N, C, H, W)."""
    height, width = int(x.shape[-2]), int(x.shape[-1])
    return max(1, min(most, PIXELS_PER_PASS // max(1, height * width)))


def calibration_slices(x, images: int = 512, most: int = 64) -> list:
    """The first `images` of `x` in forward passes of at most `most` (BN re-calibration):
    64 a pass up to 128x128, fewer above, so the same images calibrate at any size."""
    step, n = inference_batch(x, most), min(images, len(x))
    return [x[i:min(i + step, n)] for i in range(0, n, step)]
