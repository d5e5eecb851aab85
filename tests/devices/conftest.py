"""Fixtures for the device layer: tiny models, a local host profile, a real loopback sshd."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.devices.testing_models import make_conv_onnx

SHAPE = (1, 3, 16, 16)

# Short but real measurements: these tests check behaviour, not latency figures.
FAST_MEASURE = {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 5, "min_time_s": 0.0,
                "run_timeout_s": 60.0}


def write_profile(path: Path, backend: str = "local", runtime: str = "onnxruntime",
                  measure: dict | None = None, drift_every: int = 0, drift_tolerance: float = 0.5,
                  extra: str = "") -> Path:
    body = dict(FAST_MEASURE, **(measure or {}))
    lines = [f'name = "{path.stem}"', f'backend = "{backend}"', f'runtime = "{runtime}"',
             "threads = 1", extra, "[measure]"]
    lines += [f"{k} = {v!r}" for k, v in body.items()]
    lines += ["[drift]", f"every = {drift_every}", f"tolerance = {drift_tolerance}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def onnx_model(tmp_path) -> Path:
    return make_conv_onnx(tmp_path / "tiny.onnx", widths=(4, 8), input_shape=SHAPE)


@pytest.fixture
def local_profile(tmp_path) -> Path:
    return write_profile(tmp_path / "fast-local.toml")


@pytest.fixture
def ssh_profile(sshd, tmp_path):
    def make(name: str = "board", **overrides) -> Path:
        overrides.setdefault("measure", dict(FAST_MEASURE))
        return sshd.profile_toml(tmp_path / f"{name}.toml", name=name, **overrides)
    return make
