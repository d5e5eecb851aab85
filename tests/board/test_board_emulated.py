"""End to end on the emulated aarch64 board: build, check, profile, and compare outputs.

Minutes on the first run (the board is built), about a minute once it is cached.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ssh]

PREDICT_SCRIPT = Path(__file__).with_name("predict_script.py")
INPUT_SHAPE = (1, 3, 32, 32)
N_SAMPLES = 8


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A tiny CNN exported as ONNX and TFLite, and sample inputs saved as .npy."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)).eval()
    folder = tmp_path_factory.mktemp("models")
    example = torch.randn(*INPUT_SHAPE)
    onnx_path, tflite_path = folder / "tiny.onnx", folder / "tiny.tflite"
    torch.onnx.export(model, (example,), str(onnx_path), dynamo=False, opset_version=17)
    import litert_torch

    litert_torch.convert(model, (example,)).export(str(tflite_path))
    inputs = np.random.default_rng(0).standard_normal((N_SAMPLES, *INPUT_SHAPE[1:]))
    inputs_path = folder / "inputs.npy"
    np.save(inputs_path, inputs.astype(np.float32))
    return {"onnx": onnx_path, "tflite": tflite_path, "inputs": inputs_path}


def test_emulate_prints_the_board_and_the_emulation_warning(board):
    assert "board up: aarch64 3.11" in board.emulate_stdout
    assert "EMULATION times" in board.emulate_stdout
    assert "qemu -cpu cortex-a72" in board.emulate_stdout  # the CPU whose int8 answers are right
    print(f"board emulate took {board.emulate_s:.0f} s; {board.emulate_stdout}")


def test_devices_check_by_name_sees_aarch64_runtimes(board):
    out = board.cli("devices", "check", "qemu-arm64", timeout_s=300).stdout
    assert "qemu-arm64: OK" in out
    assert "onnxruntime               1.31.1" in out
    assert "tflite (ai-edge-litert)   2.3.0" in out
    assert "QEMU-emulated aarch64" in out  # the emulation is named in the device facts


def test_profile_measures_onnx_and_tflite_on_the_board(board, model_files):
    # A profile measures its own runtime's files: the .tflite file goes to a LiteRT twin of
    # the board's profile (same board, runtime = "tflite"), beside it so its paths resolve.
    twin = board.folder / "qemu-arm64-tflite.toml"
    twin.write_text((board.folder / "qemu-arm64.toml").read_text()
                    .replace('name = "qemu-arm64"', 'name = "qemu-arm64-tflite"')
                    .replace('runtime = "onnxruntime"', 'runtime = "tflite"'))
    try:
        reports = [json.loads(board.cli("profile", "--device", device, "--json", "--no-cache",
                                        str(model_files[key])).stdout)
                   for device, key in (("qemu-arm64", "onnx"), (str(twin), "tflite"))]
    finally:
        twin.unlink()
    for report in reports:
        assert report["device_facts"]["machine"] == "aarch64"
        assert "emulat" in report["device_facts"]["board"]
    stats = [r["models"][0]["stats"] for r in reports]
    assert all(s["n"] >= 10 and s["p50_ms"] > 0 for s in stats)
    print("emulated p50 ms (onnx, tflite):", [round(s["p50_ms"], 1) for s in stats])


def _host_outputs(model: Path, inputs: Path) -> dict:
    done = subprocess.run([sys.executable, str(PREDICT_SCRIPT), str(model), str(inputs)],
                          capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)


def _board_outputs(board, files: list[Path], inputs: Path) -> list[dict]:
    """Upload the script, inputs and models over SSH; run them with the board's Python."""
    from pipeline.devices import load_profile
    from pipeline.devices.ssh import connect

    profile = load_profile(board.folder / "qemu-arm64.toml")
    session = connect(profile)
    try:
        remote = session.mkdtemp()
        for path in [PREDICT_SCRIPT, inputs, *files]:
            session.put(path, f"{remote}/{path.name}")
        answers = []
        for model in files:
            rc, out, err = session.run(
                [profile.python, f"{remote}/{PREDICT_SCRIPT.name}", f"{remote}/{model.name}",
                 f"{remote}/{inputs.name}"], timeout_s=600)
            assert rc == 0, err.decode(errors="replace")[-2000:]
            answers.append(json.loads(out))
        return answers
    finally:
        session.close()


def test_board_outputs_match_the_host(board, model_files, record_property):
    files = [model_files["onnx"], model_files["tflite"]]
    on_board = _board_outputs(board, files, model_files["inputs"])
    for model, remote in zip(files, on_board):
        host = _host_outputs(model, model_files["inputs"])
        assert remote["machine"] == "aarch64" and host["machine"] != "aarch64"
        assert remote["runtime_version"] == host["runtime_version"]
        board_y, host_y = np.array(remote["outputs"]), np.array(host["outputs"])
        assert board_y.shape == host_y.shape == (N_SAMPLES, 10)
        max_abs_diff = float(np.abs(board_y - host_y).max())
        record_property(f"max_abs_diff_{model.suffix[1:]}", max_abs_diff)
        print(f"{model.name}: aarch64 vs host max abs diff {max_abs_diff:.2e}")
        np.testing.assert_array_equal(board_y.argmax(1), host_y.argmax(1))
        assert max_abs_diff < 1e-4
