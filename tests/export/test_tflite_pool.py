"""Several models converted to TFLite by worker processes: same files as in-process conversion."""
import numpy as np
import pytest

from pipeline.errors import UserError


@pytest.fixture(scope="module")
def pruned_models():
    import torch

    from pipeline.models.loading import build_model
    from pipeline.prune import SearchSpace, apply_genome

    torch.manual_seed(0)
    base = build_model("resnet20-tiny").eval()
    example = torch.zeros(1, 3, 16, 16)
    space = SearchSpace.from_model(base, example, round_to=1)
    return [apply_genome(base, space.uniform(keep), example) for keep in (0.9, 0.6, 0.4)], example


def test_workers_convert_every_model_faithfully(tmp_path, pruned_models, monkeypatch):
    import torch

    from pipeline.export import run_tflite, tflite_pool
    from pipeline.export.tflite_pool import export_tflite_many, shutdown

    models, example = pruned_models
    paths = [tmp_path / f"m{i}.tflite" for i in range(len(models))]
    # One conversion per worker: the second batch runs on a fresh pool (the recycling path).
    monkeypatch.setattr(tflite_pool, "TASKS_PER_WORKER", 1)
    try:
        out = export_tflite_many(models[:2], example, paths[:2], workers=2)
        first_pool = tflite_pool._pool
        out += export_tflite_many(models[1:], example, paths[1:], workers=2)
        assert tflite_pool._pool is not first_pool
    finally:
        shutdown()
    assert out == paths[:2] + paths[1:]
    x = np.random.default_rng(0).random((2, 3, 16, 16), dtype=np.float32)
    for model, path in zip(models, paths):
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        assert np.abs(run_tflite(path, x) - expected).max() < 1e-4
    # Different architectures, different files: no result landed on the wrong path.
    assert len({p.read_bytes() for p in paths}) == len(paths)


def test_model_that_cannot_travel_is_converted_in_process(tmp_path, pruned_models):
    import torch

    from pipeline.export.tflite_pool import export_tflite_many, shutdown

    models, example = pruned_models

    class Local(torch.nn.Module):  # defined in a function: cannot be pickled for a worker
        def __init__(self):
            super().__init__()
            self.body = models[0]

        def forward(self, x):
            return self.body(x) * 2

    paths = [tmp_path / "local.tflite", tmp_path / "zoo.tflite"]
    try:
        out = export_tflite_many([Local().eval(), models[1]], example, paths, workers=2)
    finally:
        shutdown()
    assert all(p.is_file() and p.stat().st_size > 0 for p in out)


def test_failed_conversion_in_a_worker_is_one_clear_error(tmp_path, pruned_models):
    from pipeline.export.tflite_pool import export_tflite_many, shutdown

    models, example = pruned_models
    wrong = np.zeros((1, 2, 16, 16), dtype=np.float32)  # 2 channels for a 3-channel model
    import torch

    try:
        with pytest.raises(UserError, match="TFLite conversion failed"):
            export_tflite_many(models[:2], torch.from_numpy(wrong), [tmp_path / "a.tflite",
                                                                     tmp_path / "b.tflite"],
                               workers=2)
    finally:
        shutdown()


def test_models_handed_to_workers_hold_no_file_descriptors(tmp_path, pruned_models):
    """torch's own pickling for worker processes keeps one descriptor open per tensor while
    the model lives; a 200-model predictor fit ran out of them. The pool must not."""
    import os

    from pipeline.export.tflite_pool import export_tflite_many, shutdown

    models, example = pruned_models
    tensors = sum(1 for m in models for _ in m.state_dict())
    try:
        export_tflite_many(models[:1] * 2, example, [tmp_path / "w0.tflite", tmp_path / "w1.tflite"],
                           workers=2)   # the pool and its pipes exist before counting
        before = len(os.listdir("/proc/self/fd"))
        export_tflite_many(models, example, [tmp_path / f"m{i}.tflite" for i in range(3)],
                           workers=2)
        after = len(os.listdir("/proc/self/fd"))
    finally:
        shutdown()
    assert after - before < tensors // 2, (before, after, tensors)
