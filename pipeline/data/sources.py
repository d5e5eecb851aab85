"""The embedded default: scikit-learn's digits (1,797 8x8 grey images, no download, no split)."""
from __future__ import annotations

import numpy as np

from pipeline.data.raw import RawData


def digits(path: str = "") -> RawData:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    return RawData(labels=[str(i) for i in range(10)],
                   parts={"all": (images, d.target.astype(np.int64))},
                   origin="scikit-learn's digits (which has no split of its own)")
