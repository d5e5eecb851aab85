"""int8 TFLite on the emulated aarch64 board: right answers, and a wrong file never offered.

Under qemu's default `max` CPU (with SME), XNNPACK's int8 kernels answered one class for every
sample while the same file was right on x86; the board now emulates the Cortex-A72 its
cpuinfo describes. These tests hold both halves: the board answers as the host does, and the
on-device check drops a file that answers wrongly there (reproduced with `-cpu max`).
"""
import copy
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ssh]

N_SAMPLES = 32


@pytest.fixture(scope="module")
def int8_winner(tmp_path_factory):
    """A 1-channel 28x28 CNN (a user's MNIST-style model) trained on digits, exported with int8."""
    import torch
    from torch import nn

    from pipeline.config import DataConfig
    from pipeline.data import load_data
    from pipeline.export import export_winner

    splits = load_data(DataConfig(name="digits", image_size=28), seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    # Trained well enough to answer many classes (3 epochs at lr 1e-2 left it answering class 0
    # for most samples on some CPUs, which made "not one class for every sample" fail there).
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(10):
        for xb, yb in splits.loader("train", batch_size=32, shuffle=True, seed=epoch):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(splits.x_test).argmax(1) == splits.y_test).float().mean())
    assert accuracy > 0.7, f"the fixture model trained to only {accuracy:.2f}"
    out = tmp_path_factory.mktemp("int8-winner")
    artifacts = export_winner(model, out, splits, formats=("tflite",), int8=True,
                              max_int8_drop=0.05)
    assert artifacts["tflite_int8"]["path"], artifacts["tflite_int8"]["error"]
    return model, splits, out, artifacts


def _board_profile(board, python: Path | None = None):
    import dataclasses

    from pipeline.devices import load_profile

    profile = load_profile(board.folder / "qemu-arm64.toml")
    return profile if python is None else dataclasses.replace(profile, python=str(python))


def test_board_answers_int8_as_the_host_does(board, int8_winner, record_property):
    from pipeline.devices import open_device
    from pipeline.export import run_file

    _, splits, out, _ = int8_winner
    x = splits.x_test[:N_SAMPLES].numpy()
    with open_device(_board_profile(board)) as device:
        assert device.check()["machine"] == "aarch64"
        for name in ("model.tflite", "model_int8.tflite"):
            here, there = run_file(out / name, x), device.predict(out / name, x)
            agreement = float(np.mean(here.argmax(1) == there.argmax(1)))
            record_property(f"top1_agreement_{name}", agreement)
            print(f"{name}: aarch64 vs host top-1 agreement {agreement:.3f}, "
                  f"max abs diff {np.abs(here - there).max():.2e}")
            assert agreement == 1.0
            assert len(set(there.argmax(1).tolist())) > 3  # not one class for every sample


def test_run_checks_int8_on_the_arm_board_and_keeps_a_right_file(board, int8_winner):
    from pipeline.devices import open_device
    from pipeline.export.device_check import verify_int8_on_device

    model, splits, out, artifacts = int8_winner
    artifacts = copy.deepcopy(artifacts)
    with open_device(_board_profile(board)) as device:
        checked = verify_int8_on_device(device, model, splits, out, artifacts, n_samples=N_SAMPLES)
    assert checked["tflite_int8"]["ok"] is True, checked
    assert checked["tflite_int8"]["machine"] == "aarch64"
    assert artifacts["tflite_int8"]["path"] == "model_int8.tflite"


def test_wrong_int8_answers_on_the_device_drop_the_file(board, int8_winner, tmp_path):
    """qemu's `max` CPU (SME) is the board that answered one class: the check must drop the file."""
    import shutil

    from pipeline.board.rootfs import find_tool
    from pipeline.devices import open_device
    from pipeline.export.device_check import verify_int8_on_device

    model, splits, out, artifacts = int8_winner
    root = (board.folder / "rootfs").resolve()
    python = tmp_path / "python3-max-cpu"
    python.write_text(f'#!/bin/sh\nexec {find_tool("qemu-aarch64-static")} -cpu max '
                      f'-L "{root}" "{root}/usr/bin/python3" "$@"\n')
    python.chmod(0o755)
    folder = tmp_path / "winner"
    shutil.copytree(out, folder)
    artifacts = copy.deepcopy(artifacts)
    with open_device(_board_profile(board, python)) as device:
        x = splits.x_test[:N_SAMPLES].numpy()
        from pipeline.export import run_file

        answers = device.predict(folder / "model_int8.tflite", x).argmax(1)
        host = run_file(folder / "model_int8.tflite", x).argmax(1)
        if np.mean(answers == host) >= 0.9:
            pytest.skip("this qemu emulates SME int8 correctly: no wrong board to check against")
        checked = verify_int8_on_device(device, model, splits, folder, artifacts,
                                        n_samples=N_SAMPLES)
    entry = artifacts["tflite_int8"]
    assert checked["tflite_int8"]["ok"] is False
    assert entry["path"] is None and not (folder / "model_int8.tflite").exists()
    assert "failed its check on the device" in entry["error"]
    assert artifacts["tflite"]["path"] == "model.tflite"  # the fp32 file stays
    print(entry["error"])
