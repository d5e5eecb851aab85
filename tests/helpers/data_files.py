"""Small real files of every format the readers take, written by the tests."""
import gzip
import struct

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim,
                                                                          *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path, array, gz: bool = True):
    data = idx_bytes(array)
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def write_idx_set(root, n_train: int, n_test: int, gz: bool = True, seed: int = 0):
    """Train images hold pixel values below 128, test images 128 and above: a split can be told."""
    rng = np.random.default_rng(seed)
    suffix = ".gz" if gz else ""
    for prefix, n, lo in (("train", n_train, 0), ("t10k", n_test, 128)):
        write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(lo, lo + 128, (n, 28, 28)), gz)
        write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n) % 10, gz)


def write_pngs(folder, n: int, size=(20, 20), mode: str = "RGB", seed: int = 0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, shape).astype(np.uint8), mode).save(folder / f"{i}.png")
