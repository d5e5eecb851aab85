"""IDX files (MNIST, Fashion-MNIST): validated as they are parsed, official train/test kept."""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from pipeline.data.raw import RawData
from pipeline.errors import UserError

FASHION_PATH = "/usr/share/datasets/fashion-mnist"   # Debian's dataset-fashion-mnist
FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                  "Sneaker", "Bag", "Ankle boot"]
_MAX_IDX_BYTES = 1 << 31   # far above MNIST's 47 MB; stops a forged header asking for more


def read_idx(path: Path) -> np.ndarray:
    """An unsigned-byte IDX array; any mismatch between header and body is one UserError."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read(_MAX_IDX_BYTES + 1)
        else:
            data = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(f"'{path}' cannot be read as an IDX file ({exc}); replace it with an "
                        f"intact copy") from None
    if len(data) < 4 or data[0:2] != b"\x00\x00" or data[2] != 0x08 or not 1 <= data[3] <= 4:
        raise UserError(f"'{path}' is not an unsigned-byte IDX file (MNIST format); replace it "
                        f"with an intact copy")
    ndim = data[3]
    head = 4 + 4 * ndim
    if len(data) < head:
        raise UserError(f"'{path}' is truncated inside its IDX header; replace it with an "
                        f"intact copy")
    dims = struct.unpack(">" + "I" * ndim, data[4:head])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(data) - head != expected:
        raise UserError(f"'{path}' holds {len(data) - head} bytes of data but its header "
                        f"{list(dims)} says {expected} (truncated or padded); replace it with an "
                        f"intact copy")
    return np.frombuffer(data, dtype=np.uint8, offset=head).reshape(dims)


def _find(root: Path, stem: str, what: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise UserError(f"'{stem}[.gz]' not found in '{root}'; {what} needs the four IDX files there")


def _read_pair(root: Path, prefix: str, what: str):
    x = read_idx(_find(root, f"{prefix}-images-idx3-ubyte", what))
    y = read_idx(_find(root, f"{prefix}-labels-idx1-ubyte", what))
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise UserError(f"{what} '{prefix}' files in '{root}' disagree: images {list(x.shape)}, "
                        f"labels {list(y.shape)}; replace them with intact copies")
    if len(y) and int(y.max()) > 9:
        raise UserError(f"{what} labels in '{root}' go up to {int(y.max())}; expected 0..9")
    return x[:, None], y.astype(np.int64)


def _idx_set(root: Path, what: str, labels: list[str]) -> RawData:
    parts = {"train": _read_pair(root, "train", what), "test": _read_pair(root, "t10k", what)}
    return RawData(labels=labels, parts=parts, origin=f"{what}'s official train/test split")


def mnist(path: str) -> RawData:
    from pipeline.data.folders import need_dir

    return _idx_set(need_dir(path, "MNIST IDX files"), "MNIST", [str(i) for i in range(10)])


def fashion_mnist(path: str) -> RawData:
    root = Path(path or FASHION_PATH)
    if not root.is_dir():
        if path:
            raise UserError(f"data.path '{root}' is not a folder; point it at the Fashion-MNIST "
                            f"IDX files")
        raise UserError(f"Fashion-MNIST not found at {FASHION_PATH}; install it with "
                        f"`apt-get install dataset-fashion-mnist` or set data.path=DIR")
    return _idx_set(root, "Fashion-MNIST", list(FASHION_LABELS))
