"""`edgeprune prune` then `edgeprune export` on its folder: no data, so parity on random inputs."""
import json

import pytest

from pipeline.cli import main
from pipeline.export import verify_bundle


@pytest.fixture
def prune_dir(tmp_path, capsys):
    out = tmp_path / "pruned"
    assert main(["prune", "--model", "resnet20-tiny", "--ratio", "0.5", "--input-shape",
                 "1,1,16,16", "--out", str(out)]) == 0
    capsys.readouterr()
    assert not (out / "manifest.json").exists()
    return out


def test_export_of_a_prune_folder_checks_parity_on_random_inputs(prune_dir, capsys):
    assert main(["export", str(prune_dir), "--format", "onnx,tflite"]) == 0
    printed = capsys.readouterr()
    assert "accuracy was not measured" in printed.out
    manifest = verify_bundle(prune_dir)
    assert manifest["accuracy_measured"] is False and manifest["accuracy"] is None
    assert manifest["input"]["shape"] == [1, 1, 16, 16]
    for key in ("onnx", "tflite"):
        entry = manifest["artifacts"][key]
        assert entry["error"] is None and entry["parity_inputs"] == "random"
        assert entry["max_abs_diff"] <= 1e-4 and entry["top1_agreement"] == 1.0
        assert entry["parity_samples"] == 64 and entry["accuracy"] is None
        assert entry["latency_ms"] is None  # no device named: nothing measured

    # Exported again (its manifest now says it has no data), one format: still works.
    assert main(["export", str(prune_dir), "--format", "onnx"]) == 0
    assert verify_bundle(prune_dir)["artifacts"]["onnx"]["parity_inputs"] == "random"


def test_int8_of_a_prune_folder_is_refused_before_any_work(prune_dir, capsys):
    assert main(["export", str(prune_dir), "--format", "onnx,int8"]) == 2
    err = capsys.readouterr().err
    assert "int8 needs calibration data" in err and "--format onnx,tflite" in err
    assert not (prune_dir / "model.onnx").exists()
