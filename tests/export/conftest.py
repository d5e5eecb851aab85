"""Shared fixtures: real digits data at 8x8, a tiny residual CNN trained on it for a few seconds.

A trained model matters: int8 accuracy and top-1 agreement mean nothing on random weights.
"""
from dataclasses import dataclass
from pathlib import Path

import pytest


def make_tiny_resnet(in_channels: int = 1, num_classes: int = 10, width: int = 8):
    import torch
    from torch import nn

    class TinyResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU())
            self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.fc = nn.Linear(width, num_classes)

        def forward(self, x):
            x = self.stem(x)
            y = torch.relu(self.bn1(self.conv1(x)))
            x = torch.relu(x + self.bn2(self.conv2(y)))  # the residual add
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    return TinyResNet()


def train_quickly(model, splits, epochs: int = 15, seed: int = 0):
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    model.train()
    for _ in range(epochs):
        for xb, yb in splits.loader("train", batch_size=64, shuffle=True, seed=seed):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    return model.eval()


@pytest.fixture(scope="session")
def digits_splits():
    from pipeline.config import DataConfig
    from pipeline.data import load_data

    return load_data(DataConfig(name="digits", image_size=8), seed=0)


@pytest.fixture(scope="session")
def trained_model(digits_splits):
    import torch

    torch.manual_seed(0)  # the initial weights too: an unseeded model made int8 checks flaky
    return train_quickly(make_tiny_resnet(), digits_splits)


@dataclass
class FakeStats:
    p50_ms: float
    p90_ms: float

    @property
    def samples_ms(self):
        return [self.p50_ms]

    def to_dict(self):
        return {"p50_ms": self.p50_ms, "p90_ms": self.p90_ms, "samples_ms": self.samples_ms}


@dataclass
class FakeMeasurement:
    stats: FakeStats


class RecordingDevice:
    """Stands in for pipeline.devices' Device: records each measure() call; latency = file size."""

    def __init__(self):
        self.calls = []

    def check(self):
        import platform

        from pipeline.devices.runner import cpu_flags

        return {"machine": platform.machine(), "cpu_flags": cpu_flags()}

    def measure(self, paths, input_shape):
        self.calls.append(([Path(p).name for p in paths], tuple(input_shape)))
        return [FakeMeasurement(FakeStats(Path(p).stat().st_size / 1e3, Path(p).stat().st_size / 5e2))
                for p in paths]


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained_model, digits_splits):
    from pipeline.export import export_winner, write_bundle

    out = tmp_path_factory.mktemp("winner")
    device = RecordingDevice()
    artifacts = export_winner(trained_model, out, digits_splits, formats=("onnx", "tflite"),
                              int8=True, device=device, max_int8_drop=0.05)
    manifest = {"model": "tiny", "device": "fake", "accuracy": artifacts["onnx"]["accuracy"],
                "artifacts": artifacts}
    write_bundle(out, manifest, splits=digits_splits)
    return out, artifacts, device
