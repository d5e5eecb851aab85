"""What a reader hands to the splitter: images by part, the class names, and where they came from."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PARTS = ("train", "val", "test")


@dataclass
class RawData:
    """parts: "all" (to be split here) or some of train/val/test (the source's own split).

    Arrays are N,C,H,W, uint8 (0..255) or float32 (0..1): uint8 stays uint8 until after the
    subset is drawn, so a 70,000-image set costs its bytes, not four times them.
    """

    labels: list[str]
    parts: dict[str, tuple[np.ndarray, np.ndarray]]
    origin: str                       # e.g. "the official Fashion-MNIST train/test split"
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(y) for _, y in self.parts.values())


def to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32, copy=False)
