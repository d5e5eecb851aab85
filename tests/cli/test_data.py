import gzip
import struct

import numpy as np
import pytest

from pipeline.config import DataConfig
from pipeline.data import load_data
from pipeline.errors import UserError


def test_digits_split_is_fixed_stratified_and_normalised():
    a = load_data(DataConfig(), seed=0)
    b = load_data(DataConfig(), seed=0)
    assert a.input_shape == (1, 1, 32, 32) and a.num_classes == 10
    assert len(a.x_train) + len(a.x_val) + len(a.x_test) == 1797
    assert (a.y_test == b.y_test).all() and (a.x_val == b.x_val).all()
    assert abs(float(a.x_train.mean())) < 1e-3 and abs(float(a.x_train.std()) - 1) < 1e-2
    assert set(a.y_test.tolist()) == set(range(10))


def _write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim,
                                                                          *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_idx_files_are_read(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    s = load_data(DataConfig(name="mnist", path=str(tmp_path)), seed=0)
    assert s.input_shape == (1, 1, 32, 32)
    assert len(s.x_train) + len(s.x_val) + len(s.x_test) == 80


def test_cifar_batches_are_read(tmp_path):
    import pickle

    rng = np.random.default_rng(0)
    for name in ("data_batch_1", "test_batch"):
        batch = {b"data": rng.integers(0, 255, (40, 3072)).astype(np.uint8),
                 b"labels": [i % 10 for i in range(40)]}
        (tmp_path / name).write_bytes(pickle.dumps(batch))
    s = load_data(DataConfig(name="cifar10", path=str(tmp_path)), seed=0)
    assert s.input_shape == (1, 3, 32, 32) and s.num_classes == 10


def test_image_folder(tmp_path):
    import matplotlib.image as mpimg

    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(10):
            mpimg.imsave(tmp_path / cls / f"{i}.png", rng.random((20, 20, 3)))
    s = load_data(DataConfig(name="folder", path=str(tmp_path)), seed=0)
    assert s.labels == ["cat", "dog"] and s.input_shape == (1, 3, 32, 32)


@pytest.mark.parametrize("name, words", [("mnist", "data.path is empty"),
                                          ("imagenet", "unknown data set")])
def test_bad_data_config(name, words):
    with pytest.raises(UserError, match=words):
        load_data(DataConfig(name=name), seed=0)
