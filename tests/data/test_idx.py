"""MNIST / Fashion-MNIST IDX files: the official split, the subset, and damaged files."""
import gzip

import numpy as np
import pytest
import torch
from helpers.data_files import idx_bytes, write_idx, write_idx_set

from pipeline.config import DataConfig
from pipeline.data import idx, load_data
from pipeline.errors import UserError


def _test_pixels_raw(s):
    """The test images back in [0, 255] (undo the normalisation)."""
    mean, std = torch.tensor(s.mean)[None, :, None, None], torch.tensor(s.std)[None, :, None, None]
    return (s.x_test * std + mean) * 255


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_reads_idx_records_and_keeps_the_official_test_set(tmp_path, gz):
    write_idx_set(tmp_path, n_train=100, n_test=30, gz=gz)
    s = load_data(DataConfig(name="fashion-mnist", path=str(tmp_path), image_size=28), seed=0)
    assert s.labels[0] == "T-shirt/top" and s.labels[9] == "Ankle boot"
    assert s.input_shape == (1, 1, 28, 28)
    assert len(s.y_test) == 30 and len(s.y_train) + len(s.y_val) == 100
    assert float(_test_pixels_raw(s).min()) > 127.0     # every test image is a t10k record
    assert s.test_from_source and "Fashion-MNIST's official train/test split: " in s.split_source
    assert "val carved from train" in s.split_source and "test as given" in s.split_source


def test_fashion_mnist_absent_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(idx, "FASHION_PATH", str(tmp_path / "absent"))
    with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist"):
        load_data(DataConfig(name="fashion-mnist"), seed=0)


def test_limit_is_a_stratified_seeded_subset_recorded_in_the_splits(tmp_path):
    write_idx_set(tmp_path, n_train=200, n_test=100)
    cfg = DataConfig(name="mnist", path=str(tmp_path), limit=60)
    a, b = load_data(cfg, seed=0), load_data(cfg, seed=0)
    c = load_data(cfg, seed=1)
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 60
    assert len(a.y_test) == 20                      # the test part keeps its share (100 of 300)
    counts = torch.bincount(torch.cat([a.y_train, a.y_val, a.y_test]), minlength=10)
    assert counts.tolist() == [6] * 10
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)
    assert "60 of 300 images" in a.split_source and "data.limit=60" in a.split_source


def _mnist_files(tmp_path):
    write_idx_set(tmp_path, n_train=20, n_test=10, gz=False)
    return tmp_path / "train-images-idx3-ubyte"


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(p.read_bytes()[:-5]), "truncated or padded"),
    (lambda p: p.write_bytes(b"\x00"), "not an unsigned-byte IDX"),
    (lambda p: p.write_bytes(idx_bytes(np.zeros((2, 28, 28)))[:9]), "truncated inside its IDX header"),
    (lambda p: p.write_bytes(b"\x00\x00\x0d\x03" + bytes(100)), "not an unsigned-byte IDX"),
    (lambda p: p.write_bytes(p.read_bytes() + b"xx"), "truncated or padded"),
])
def test_damaged_idx_files_are_one_line(tmp_path, damage, words):
    damage(_mnist_files(tmp_path))
    with pytest.raises(UserError, match=words) as err:
        load_data(DataConfig(name="mnist", path=str(tmp_path)), seed=0)
    assert "\n" not in str(err.value)


def test_corrupt_gzip_is_one_line(tmp_path):
    write_idx_set(tmp_path, n_train=20, n_test=10)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10) % 10))[:-12])
    with pytest.raises(UserError, match="cannot be read as an IDX file"):
        load_data(DataConfig(name="mnist", path=str(tmp_path)), seed=0)


def test_images_and_labels_that_disagree(tmp_path):
    write_idx_set(tmp_path, n_train=20, n_test=10)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(19) % 10)
    with pytest.raises(UserError, match="disagree"):
        load_data(DataConfig(name="mnist", path=str(tmp_path)), seed=0)


@pytest.mark.parametrize("size", [0, -3])
def test_image_size_must_be_positive(size):
    from pipeline.config import load_config

    with pytest.raises(UserError, match="data.image_size"):
        load_data(DataConfig(image_size=size), seed=0)
    with pytest.raises(UserError, match="data.image_size"):
        load_config(None, [f"data.image_size={size}"])


def test_a_limit_too_small_for_a_split_is_one_line(tmp_path):
    write_idx_set(tmp_path, n_train=200, n_test=5)     # 20 of 205: the test part's share rounds to 0
    with pytest.raises(UserError, match="test split would hold no images"):
        load_data(DataConfig(name="mnist", path=str(tmp_path), limit=20), seed=0)


def test_val_images_come_from_what_the_subset_left_unused(tmp_path):
    write_idx_set(tmp_path, n_train=200, n_test=100)
    cfg = DataConfig(name="mnist", path=str(tmp_path), image_size=28, limit=60, val_images=50)
    s = load_data(cfg, seed=0)
    # the subset (40 train, 20 test) trains and tests whole; validation is 50 other images
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (40, 50, 20)
    assert torch.bincount(s.y_val, minlength=10).tolist() == [5] * 10
    def flat(splits, x):   # each image's raw pixels (normalisation undone), as bytes
        mean = torch.tensor(splits.mean)[None, :, None, None]
        std = torch.tensor(splits.std)[None, :, None, None]
        raw = torch.round((x * std + mean) * 255).to(torch.uint8)
        return {bytes(r.numpy().tobytes()) for r in raw.reshape(len(x), -1)}

    assert not flat(s, s.x_val) & flat(s, s.x_train)
    assert float(_test_pixels_raw(s).min()) > 127.0                 # test still the t10k part
    assert "50 images of the train part the subset left unused" in s.split_source
    # the subset itself is the same as without val_images: only where validation comes from moves
    plain = load_data(DataConfig(name="mnist", path=str(tmp_path), image_size=28, limit=60),
                      seed=0)
    assert flat(plain, plain.x_train) | flat(plain, plain.x_val) == flat(s, s.x_train)


def test_val_images_on_a_source_without_a_split_and_its_errors(tmp_path):
    from pipeline.data.select import plan_splits

    y = np.arange(500) % 10
    plan = plan_splits({"all": y}, "digits", 100, 0.15, 0.2, seed=3, val_images=200)
    (src, train), (_, val), (_, test) = (plan.indices[p] for p in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (80, 200, 20)
    assert not set(val) & (set(train) | set(test)) and src == "all"
    with pytest.raises(UserError, match="set data.limit too"):
        plan_splits({"all": y}, "digits", 0, 0.15, 0.2, seed=0, val_images=10)
    with pytest.raises(UserError, match="leaves only 400 images"):
        plan_splits({"all": y}, "digits", 100, 0.15, 0.2, seed=0, val_images=401)
    write_idx_set(tmp_path, n_train=20, n_test=10)
    with pytest.raises(UserError, match="data.val_images must be >= 0"):
        load_data(DataConfig(name="mnist", path=str(tmp_path), limit=10, val_images=-1), seed=0)
