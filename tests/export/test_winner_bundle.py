"""export_winner + write_bundle end to end on a trained tiny residual CNN (one litert-torch run)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import DeviceError, UserError
from pipeline.export import export_winner, run_tflite, sha256_file, verify_bundle


def test_fp32_files_match_pytorch(exported):
    _, artifacts, _ = exported
    for key in ("onnx", "tflite"):
        entry = artifacts[key]
        assert entry["error"] is None, entry["error"]
        assert entry["max_abs_diff"] <= 1e-4 and entry["top1_agreement"] == 1.0
        assert entry["parity_ok"] is True


def test_int8_files_are_measured_beside_fp32(exported):
    out, artifacts, _ = exported
    for key in ("onnx_int8", "tflite_int8"):
        entry = artifacts[key]
        assert entry["error"] is None, entry["error"]
        fp32 = artifacts[key.removesuffix("_int8")]
        assert entry["accuracy_drop"] == pytest.approx(fp32["accuracy"] - entry["accuracy"])
    assert artifacts["tflite_int8"]["bytes"] < artifacts["tflite"]["bytes"]
    manifest = json.loads((out / "manifest.json").read_text())
    # int8 input tensor: run_tflite quantised the inputs itself to measure that accuracy.
    assert manifest["artifacts"]["tflite_int8"]["input"]["dtype"] == "int8"
    assert manifest["artifacts"]["onnx"]["input"]["dtype"] == "float32"


def test_all_files_measured_in_one_device_batch(exported):
    _, artifacts, device = exported
    assert len(device.calls) == 1
    names, shape = device.calls[0]
    assert sorted(names) == sorted(a["path"] for a in artifacts.values())
    assert shape == (1, 1, 8, 8)
    for entry in artifacts.values():
        assert set(entry["latency_ms"]) >= {"p50", "p90"}
        # The timed runs are kept (the report draws their distribution from the manifest).
        assert entry["latency_ms"]["samples"] and min(entry["latency_ms"]["samples"]) > 0


def test_manifest_fields_and_sha256(exported, digits_splits):
    out, _, _ = exported
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["shape"] == [1, 1, 8, 8] and manifest["input"]["name"] == "input"
    assert manifest["normalisation"]["mean"] == pytest.approx(digits_splits.mean)
    assert manifest["labels"] == digits_splits.labels
    for name in ("model.onnx", "model.tflite", "model_int8.onnx", "model_int8.tflite",
                 "predict.py", "samples.npy"):
        assert manifest["files"][name] == sha256_file(out / name)
    for key, entry in manifest["artifacts"].items():
        assert entry["sha256"] == manifest["files"][entry["path"]]
        assert len(manifest["samples"]["expected_top1"][key]) == len(np.load(out / "samples.npy"))
    assert verify_bundle(out)["model"] == "tiny"


def test_tampered_or_missing_file_is_refused(exported, tmp_path):
    out, _, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with open(copy / "model.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(UserError, match="sha256"):
        verify_bundle(copy)
    from pipeline.cli import main

    assert main(["export", str(copy), "--format", "onnx"]) == 2
    (copy / "model.onnx").unlink()
    with pytest.raises(UserError, match="missing"):
        verify_bundle(copy)


# Imports that would make predict.py more than "numpy + the runtime".
FORBIDDEN = ("torch", "pipeline", "onnx", "litert_torch", "ai_edge_quantizer")
RUN_PREDICT = """
import json, runpy, sys
for name in {forbidden!r}:
    sys.modules[name] = None  # any import of these now raises ImportError
sys.argv = ["predict.py"] + sys.argv[1:]
try:
    runpy.run_path("predict.py", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
"""


@pytest.mark.parametrize("key", ["onnx", "tflite", "onnx_int8", "tflite_int8"])
def test_predict_py_runs_with_numpy_and_runtime_only(exported, tmp_path, key):
    out, artifacts, _ = exported
    bundle = tmp_path / "moved"  # a copy elsewhere: the bundle must be self-contained
    shutil.copytree(out, bundle)
    script = RUN_PREDICT.format(forbidden=FORBIDDEN)
    result = subprocess.run(
        [sys.executable, "-c", script, "--model", artifacts[key]["path"], "--input",
         "samples.npy", "--json"], cwd=bundle, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    expected = json.loads((bundle / "manifest.json").read_text())["samples"]["expected_top1"][key]
    assert [p["top1"] for p in answer["predictions"]] == expected


def test_device_failure_keeps_files_and_says_why(tmp_path, trained_model, digits_splits):
    class BrokenDevice:
        def measure(self, paths, input_shape):
            raise DeviceError("board unreachable; check the cable")

    artifacts = export_winner(trained_model, tmp_path, digits_splits, formats="onnx",
                              device=BrokenDevice())
    assert (tmp_path / "model.onnx").is_file()
    assert artifacts["onnx"]["latency_ms"] is None
    assert "unreachable" in artifacts["onnx"]["latency_error"]


def test_run_tflite_takes_any_number_of_samples(exported, digits_splits):
    out, _, _ = exported
    logits = run_tflite(out / "model.tflite", digits_splits.x_test[:3].numpy())
    assert logits.shape == (3, 10)


def test_int8_slower_than_fp32_is_flagged(tmp_path):
    from pipeline.export.winner import measure_artifacts
    from tests.export.conftest import FakeMeasurement, FakeStats

    latency = {"model.onnx": 0.25, "model_int8.onnx": 0.30, "model.tflite": 0.40,
               "model_int8.tflite": 0.20}

    class Device:
        def measure(self, paths, input_shape):
            return [FakeMeasurement(FakeStats(latency[p.name], latency[p.name])) for p in paths]

    artifacts = {"onnx": {"path": "model.onnx"}, "onnx_int8": {"path": "model_int8.onnx"},
                 "tflite": {"path": "model.tflite"}, "tflite_int8": {"path": "model_int8.tflite"}}
    measure_artifacts(Device(), tmp_path, artifacts, (1, 1, 8, 8))
    assert artifacts["onnx_int8"]["slower_than_fp32"] is True
    assert artifacts["tflite_int8"]["slower_than_fp32"] is False
    assert "slower_than_fp32" not in artifacts["onnx"]


def test_summary_says_which_int8_file_to_skip():
    from pipeline.commands.run import format_summary

    lat = {"p50": 0.3, "p90": 0.4}
    summary = {"run_dir": "runs/x", "baseline": {"accuracy_test": 0.99, "latency_ms": lat,
                                                 "params": 10, "macs": 1e6},
               "winners": [{"id": "knee", "accuracy": 0.99, "latency_ms": lat, "params": 5,
                            "macs": 5e5, "artifacts": {
                                "onnx": {"path": "model.onnx", "accuracy": 0.99, "latency_ms": lat},
                                "onnx_int8": {"path": "model_int8.onnx", "accuracy": 0.99,
                                              "latency_ms": {"p50": 0.5}, "slower_than_fp32": True}}}]}
    text = format_summary(summary)
    assert "knee: onnx_int8 measured slower than fp32 on this device; deploy the fp32 file" in text
