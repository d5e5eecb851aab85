"""Measuring for the predictor in passes: a shared host's burst slows one pass, the fastest
pass is kept, and how far the passes disagree is reported as the device's repeatability."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pipeline.errors import UserError
from pipeline.models import build_model
from pipeline.predictor.profiling import (REFERENCE_EVERY, measure_genomes, random_genomes,
                                          repeatability)
from pipeline.prune import SearchSpace


class BurstyDevice:
    """Each file has a true latency; every timing made while the host is 'busy' (the calls
    numbered in `busy`) is 60% slower. Counts its calls like a real session would."""

    def __init__(self, busy):
        self.profile = SimpleNamespace(name="fake", runtime="onnxruntime")
        self.busy, self.calls, self.timed = set(busy), 0, []

    @staticmethod
    def true_ms(path) -> float:
        return 1.0 if path.stem == "reference" else 0.1 + (sum(map(ord, path.stem)) % 50) / 100

    def measure(self, paths, shape, fresh=False):
        assert fresh   # the predictor's samples are always measured now
        self.calls += 1
        slow = 1.6 if self.calls in self.busy else 1.0
        self.timed += [p.stem for p in paths]
        return [SimpleNamespace(key=p.stem, stats=SimpleNamespace(p50_ms=self.true_ms(p) * slow))
                for p in paths]


@pytest.fixture()
def tiny(monkeypatch, tmp_path):
    def export(models, example, folder, names, runtime, workers=0):
        paths = [folder / f"{n}.onnx" for n in names]
        for p in paths:
            p.write_bytes(b"")
        return paths

    monkeypatch.setattr("pipeline.export.tflite_pool.export_for_runtime", export)
    torch.manual_seed(0)
    model = build_model("resnet20-tiny", num_classes=10, in_channels=1).eval()
    example = torch.zeros(1, 1, 16, 16)
    space = SearchSpace.from_model(model, example)
    genomes = random_genomes(space, 2 * REFERENCE_EVERY, np.random.default_rng(0))
    return model, example, genomes, tmp_path


def test_a_burst_in_one_pass_is_not_what_the_predictor_learns(tiny):
    model, example, genomes, folder = tiny
    # calls per pass: reference, chunk 1, reference, chunk 2, reference. The first pass's
    # second chunk and the reference after it run during a burst.
    device = BurstyDevice(busy={4, 5})
    samples, measured = measure_genomes(model, example, genomes, device, folder, passes=2)
    assert measured == len(genomes) == len(samples)
    assert device.timed.count("reference") == 6 and len(device.timed) == 6 + 2 * len(genomes)
    truth = np.array([device.true_ms(folder / f"{s.key}.onnx") for s in samples])
    assert np.allclose([s.latency_ms for s in samples], truth)        # the quiet pass counts
    assert all(s.reference_ms == pytest.approx(1.0) for s in samples)
    passes = np.array([s.extra["passes_ms"] for s in samples])
    assert passes.shape == (len(genomes), 2)
    assert np.allclose(passes[REFERENCE_EVERY:, 0], 1.6 * truth[REFERENCE_EVERY:])
    rep = repeatability(samples)
    assert rep["n"] == len(genomes) and rep["within_10pct"] == pytest.approx(0.5)
    assert rep["worst_abs_rel"] == pytest.approx(0.6)


def test_one_pass_keeps_the_burst_and_cannot_say_how_repeatable_the_device_is(tiny):
    model, example, genomes, folder = tiny
    device = BurstyDevice(busy={4})
    samples, _ = measure_genomes(model, example, genomes, device, folder, passes=1)
    truth = np.array([device.true_ms(folder / f"{s.key}.onnx") for s in samples])
    assert np.allclose([s.latency_ms for s in samples][REFERENCE_EVERY:],
                       1.6 * truth[REFERENCE_EVERY:])
    assert repeatability(samples) is None
    with pytest.raises(UserError, match="--passes"):
        measure_genomes(model, example, genomes, device, folder, passes=0)
