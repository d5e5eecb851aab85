"""Readers for image data. Each returns (images N,C,H,W float32 in [0,1], targets, labels).

Nothing is downloaded: the default is scikit-learn's embedded `load_digits()`; MNIST, CIFAR-10
and image folders are read from files the user already has.
"""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

from pipeline.errors import UserError


def digits(path: str = ""):
    from sklearn.datasets import load_digits

    d = load_digits()
    images = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    return images, d.target.astype(np.int64), [str(i) for i in range(10)]


def _need_dir(path: str, what: str) -> Path:
    if not path:
        raise UserError(f"data.path is empty; set data.path=DIR to the folder holding your {what}")
    p = Path(path)
    if not p.is_dir():
        raise UserError(f"data.path '{p}' is not a folder; point it at your {what}")
    return p


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or dtype_code != 0x08:
        raise UserError(f"'{path}' is not an unsigned-byte IDX file (MNIST format)")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise UserError(f"'{stem}[.gz]' not found in '{root}'; MNIST needs the four IDX files there")


def mnist(path: str):
    """MNIST IDX files (train-images-idx3-ubyte[.gz] etc.); train and test are pooled, then split."""
    root = _need_dir(path, "MNIST IDX files")
    xs, ys = [], []
    for prefix in ("train", "t10k"):
        xs.append(_read_idx(_find(root, f"{prefix}-images-idx3-ubyte")))
        ys.append(_read_idx(_find(root, f"{prefix}-labels-idx1-ubyte")))
    images = np.concatenate(xs).astype(np.float32)[:, None] / 255.0
    return images, np.concatenate(ys).astype(np.int64), [str(i) for i in range(10)]


def cifar10(path: str):
    """The python version of CIFAR-10 (data_batch_1..5, test_batch, batches.meta)."""
    root = _need_dir(path, "CIFAR-10 python batches (cifar-10-batches-py)")
    files = sorted(root.glob("data_batch_*")) + sorted(root.glob("test_batch"))
    if not files:
        raise UserError(f"no data_batch_* files in '{root}'; extract cifar-10-python.tar.gz there")
    xs, ys = [], []
    for f in files:
        # CIFAR's own format is a pickle of plain arrays; encoding='bytes' keeps it to data only.
        with open(f, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    labels = [str(i) for i in range(10)]
    meta = root / "batches.meta"
    if meta.is_file():
        with open(meta, "rb") as fh:
            labels = [n.decode() for n in pickle.load(fh, encoding="bytes")[b"label_names"]]
    return np.concatenate(xs).astype(np.float32) / 255.0, np.concatenate(ys), labels


def image_folder(path: str, size: int = 32):
    """One sub-folder per class holding PNG/JPEG images (read with matplotlib's PIL-free reader)."""
    root = _need_dir(path, "images, one sub-folder per class")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise UserError(f"'{root}' has no class sub-folders; put each class's images in its own folder")
    import matplotlib.image as mpimg

    xs, ys = [], []
    for idx, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                continue
            img = np.asarray(mpimg.imread(f), dtype=np.float32)
            if img.max() > 1.0:
                img = img / 255.0
            img = img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
            xs.append(_resize(img.transpose(2, 0, 1), size))
            ys.append(idx)
    if not xs:
        raise UserError(f"no .png/.jpg images found under '{root}'")
    return np.stack(xs), np.asarray(ys, dtype=np.int64), classes


def _resize(chw: np.ndarray, size: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(chw)[None]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0].numpy()
