"""CIFAR-10 batches: a data-only unpickler, the official test batch kept, damaged files."""
import os
import pickle

import numpy as np
import pytest

from pipeline.config import DataConfig
from pipeline.data import load_data
from pipeline.errors import UserError


def _batch(n, seed):
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"test", b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
            b"labels": [i % 10 for i in range(n)], b"filenames": [b"x.png"] * n}


def _write(root, protocol=2):
    (root / "data_batch_1").write_bytes(pickle.dumps(_batch(60, 0), protocol=protocol))
    (root / "data_batch_2").write_bytes(pickle.dumps(_batch(40, 1), protocol=protocol))
    (root / "test_batch").write_bytes(pickle.dumps(_batch(30, 2), protocol=protocol))
    names = {b"label_names": [f"class{i}".encode() for i in range(10)]}
    (root / "batches.meta").write_bytes(pickle.dumps(names, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 5])
def test_batches_load_and_the_test_batch_stays_the_test_set(tmp_path, protocol):
    _write(tmp_path, protocol)
    s = load_data(DataConfig(name="cifar10", path=str(tmp_path)), seed=0)
    assert s.input_shape == (1, 3, 32, 32) and s.labels[3] == "class3"
    assert len(s.y_test) == 30 and len(s.y_train) + len(s.y_val) == 100
    assert s.test_from_source and "CIFAR-10's official" in s.split_source


class _Payload:
    """What a hostile batch carries: unpickling it would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("where", ["data_batch_1", "test_batch", "batches.meta"])
def test_a_pickle_that_runs_code_is_refused_and_never_runs(tmp_path, where):
    _write(tmp_path)
    marker = tmp_path / "marker"
    batch = _batch(10, 0)
    batch[b"labels"] = _Payload(marker)
    (tmp_path / where).write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(UserError, match="refused to load 'posix.system'|refused to load 'os.system'"):
        load_data(DataConfig(name="cifar10", path=str(tmp_path)), seed=0)
    assert not marker.exists()


@pytest.mark.parametrize("content", [
    np.random.default_rng(0).bytes(5000),                   # random bytes
    b"",                                                     # empty
    pickle.dumps([1, 2, 3]),                                 # a pickle, but not a dict
    pickle.dumps({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}),  # wrong width
    pickle.dumps({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 99]}),  # bad class
])
def test_damaged_batches_are_one_line(tmp_path, content):
    _write(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(content)
    with pytest.raises(UserError, match="data_batch_2") as err:
        load_data(DataConfig(name="cifar10", path=str(tmp_path)), seed=0)
    assert "\n" not in str(err.value)
