"""Lazily read image folders: shapes, normalisation, augmentation determinism, consumers."""
import numpy as np
import pytest
import torch
from helpers.data_files import write_pngs

from pipeline.config import DataConfig, TrainConfig
from pipeline.data import load_data
from pipeline.data.lazy import LazyImages


@pytest.fixture
def folder(tmp_path):
    for i, cls in enumerate(("cat", "dog", "fox")):
        write_pngs(tmp_path / cls, 20, size=(50, 40), seed=i)
    return tmp_path


def _lazy(folder, **kw):
    return load_data(DataConfig(name="folder", path=str(folder), lazy="true", image_size=24, **kw), seed=0)


def test_lazy_splits_match_the_in_memory_reader(folder):
    lazy = _lazy(folder)
    eager = load_data(DataConfig(name="folder", path=str(folder), lazy="false", image_size=24), seed=0)
    assert lazy.lazy and isinstance(lazy.x_train, LazyImages) and not eager.lazy
    assert lazy.input_shape == eager.input_shape == (1, 3, 24, 24)
    assert torch.equal(lazy.y_train, eager.y_train) and torch.equal(lazy.y_test, eager.y_test)
    # the same pixels, normalised by statistics of a training sample (here: all of it)
    assert np.allclose(lazy.mean, eager.mean, atol=1e-4) and np.allclose(lazy.std, eager.std, atol=1e-3)
    idx = torch.tensor([3, 0, 7])
    assert torch.allclose(lazy.x_train[idx], eager.x_train[idx], atol=1e-4)
    assert torch.allclose(lazy.x_test, eager.x_test, atol=1e-4)
    assert lazy.x_train[:2].shape == (2, 3, 24, 24) and len(lazy.x_train) == len(eager.x_train)


def test_eval_parts_are_bounded_and_say_so(folder):
    s = _lazy(folder, eval_images=5)
    assert len(s.y_test) == 5 and "test accuracy on a stratified 5 of its" in s.split_source


def _epochs(loader, n=2):
    return [torch.cat([x for x, _ in loader]) for _ in range(n)]


def test_loader_shapes_and_augmentation_are_seeded_whatever_the_workers(folder):
    s = _lazy(folder, crop_pad=4, flip=True)
    plain = _epochs(s.loader("train", 16, shuffle=True, seed=3, workers=0))
    aug0 = _epochs(s.loader("train", 16, shuffle=True, seed=3, augment=True, workers=0))
    aug2 = _epochs(s.loader("train", 16, shuffle=True, seed=3, augment=True, workers=2))
    assert aug0[0].shape == (len(s.y_train), 3, 24, 24)
    assert all(torch.equal(a, b) for a, b in zip(aug0, aug2))   # same batches with 0 or 2 workers
    assert not torch.equal(aug0[0], aug0[1])                      # each epoch draws anew
    assert not torch.equal(aug0[0], plain[0])                     # augmentation did something
    assert torch.equal(plain[0].sort(0)[0], plain[1].sort(0)[0])  # no augmentation: same images
    other = _epochs(s.loader("train", 16, shuffle=True, seed=4, augment=True, workers=0), 1)
    assert not torch.equal(other[0], aug0[0])


def test_training_and_evaluation_run_on_lazy_splits(folder):
    from pipeline.models import build_model
    from pipeline.recover import evaluate, train_baseline

    s = _lazy(folder)
    model = build_model("resnet20-tiny", num_classes=3, in_channels=3)
    model, hist = train_baseline(model, s, TrainConfig(epochs=1, lr=0.05), seed=0, batch_size=16)
    assert hist.steps > 0 and 0.0 <= evaluate(model, s.x_val, s.y_val) <= 1.0


def test_any_image_size_224_included(tmp_path):
    for i, cls in enumerate(("a", "b")):
        write_pngs(tmp_path / cls, 6, size=(300, 200), seed=i)
    s = load_data(DataConfig(name="folder", path=str(tmp_path), lazy="true", image_size=224), seed=0)
    assert s.input_shape == (1, 3, 224, 224) and s.x_test.shape[1:] == (3, 224, 224)
    x, y = next(iter(s.loader("train", 4, workers=0)))
    assert x.shape == (4, 3, 224, 224) and y.shape == (4,)


def test_a_file_damaged_after_loading_is_one_line_from_a_worker(folder):
    from pipeline.errors import UserError

    s = _lazy(folder)
    open(s.datasets["train"].paths[0], "wb").write(b"gone")
    with pytest.raises(UserError, match="cannot be decoded") as err:
        for _ in s.loader("train", 8, workers=1):
            pass
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)


def test_batches_from_workers_equal_indexing(folder):
    s = _lazy(folder)
    order = torch.randperm(len(s.x_train), generator=torch.Generator().manual_seed(0))
    streamed = list(s.x_train.batches(order, 16, workers=2))
    indexed = [s.x_train[order[i:i + 16]] for i in range(0, len(order), 16)]
    assert len(streamed) == len(indexed)
    assert all(torch.equal(a, b) for a, b in zip(streamed, indexed))


def test_the_training_loop_streams_lazy_images_like_tensors(folder):
    from pipeline.recover.loop import batches

    s = _lazy(folder)
    whole = s.x_train[:]                       # the same images, materialised
    for bs in (16, len(s.y_train) - 1):        # the second leaves a last batch of one (dropped)
        lazy = list(batches(s.x_train, s.y_train, bs, torch.Generator().manual_seed(1)))
        eager = list(batches(whole, s.y_train, bs, torch.Generator().manual_seed(1)))
        assert len(lazy) == len(eager)
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(lazy, eager))
