"""CIFAR-10 python batches, read with an unpickler that can only build data.

CIFAR's own format is a pickle. `pickle.load` would run any callable a file names (a batch with
a `__reduce__` runs a command), so `find_class` here allows only the few numpy constructors an
array's pickle uses and nothing else; anything more is refused with one line.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from pipeline.data.raw import RawData
from pipeline.errors import UserError

# (module, name) pairs an ndarray's pickle refers to, across numpy 1.x/2.x and protocols 2-5.
_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),   # protocol-2 pickles spell bytes as _codecs.encode(str, 'latin1')
}
_MAX_BATCH_BYTES = 1 << 30


class _DataOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load '{module}.{name}' (not plain data)")


def load_batch(path: Path) -> dict:
    """One batch as a dict; a file that is not a plain-data pickle is one UserError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read CIFAR batch '{path}' ({exc.strerror})") from None
    if len(raw) > _MAX_BATCH_BYTES:
        raise UserError(f"'{path}' is {len(raw)} bytes, far more than a CIFAR batch; check data.path")
    try:
        obj = _DataOnly(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # any parse failure of a hostile or damaged file
        raise UserError(f"'{path}' is not a CIFAR-10 python batch ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'}); replace it "
                        f"with the file from cifar-10-python.tar.gz") from None
    if not isinstance(obj, dict):
        raise UserError(f"'{path}' is not a CIFAR-10 python batch (holds {type(obj).__name__}, "
                        f"not a dict); replace it with the file from cifar-10-python.tar.gz")
    return obj


def _images(batch: dict, path: Path):
    data, labels = batch.get(b"data"), batch.get(b"labels")
    try:
        x = np.asarray(data)
        y = np.asarray(labels, dtype=np.int64)
        if x.dtype == object or x.ndim != 2 or x.shape[1] != 3072 or len(y) != len(x):
            raise ValueError
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise ValueError
    except (ValueError, TypeError):
        raise UserError(f"'{path}' lacks CIFAR-10's b'data' (N x 3072 bytes) and b'labels' "
                        f"(N classes 0..9); replace it with the file from "
                        f"cifar-10-python.tar.gz") from None
    return x.astype(np.uint8).reshape(-1, 3, 32, 32), y


def cifar10(path: str) -> RawData:
    """data_batch_1..5 are the training set, test_batch the official test set."""
    from pipeline.data.folders import need_dir

    root = need_dir(path, "CIFAR-10 python batches (cifar-10-batches-py)")
    train_files = sorted(root.glob("data_batch_*"))
    if not train_files:
        raise UserError(f"no data_batch_* files in '{root}'; extract cifar-10-python.tar.gz there")
    train = [_images(load_batch(f), f) for f in train_files]
    parts = {"train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]))}
    origin = "CIFAR-10's official train/test split"
    if (root / "test_batch").is_file():
        parts["test"] = _images(load_batch(root / "test_batch"), root / "test_batch")
    else:
        parts = {"all": parts["train"]}
        origin = "CIFAR-10 training batches (no test_batch found)"
    labels = [str(i) for i in range(10)]
    meta = root / "batches.meta"
    if meta.is_file():
        names = load_batch(meta).get(b"label_names")
        if isinstance(names, list) and len(names) == 10 and all(isinstance(n, bytes) for n in names):
            labels = [n.decode("utf-8", "replace") for n in names]
    return RawData(labels=labels, parts=parts, origin=origin)
