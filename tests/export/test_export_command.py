"""`edgeprune export WINNER_DIR`: a real pruned zoo model, the digits data, host-ort measurement."""
import json

import pytest

from pipeline.cli import main
from pipeline.export import verify_bundle
from tests.export.conftest import train_quickly


@pytest.fixture(scope="module")
def winner_dir(tmp_path_factory, digits_splits):
    import torch

    from pipeline.models import create_model
    from pipeline.prune import SearchSpace, apply_genome, save_pruned

    base = create_model("resnet20-tiny", num_classes=10, in_channels=1).eval()
    example = torch.zeros(digits_splits.input_shape)
    genome = SearchSpace.from_model(base, example).uniform(0.5)
    pruned = train_quickly(apply_genome(base, genome, example), digits_splits, epochs=10)
    folder = tmp_path_factory.mktemp("winner") / "1"
    save_pruned(folder, pruned, "resnet20-tiny", genome,
                {"num_classes": 10, "in_channels": 1, "input_shape": list(digits_splits.input_shape)})
    manifest = {"model": "resnet20-tiny", "device": "host-ort", "channels": genome, "seed": 0,
                "data": {"name": "digits", "image_size": 8}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_export_writes_verified_measured_bundle(winner_dir, capsys):
    code = main(["export", str(winner_dir), "--format", "onnx,int8", "--max-int8-drop", "0.05"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    manifest = verify_bundle(winner_dir)
    assert manifest["channels"] and manifest["model"] == "resnet20-tiny"  # earlier fields kept
    assert {"model.json", "model.safetensors", "model.onnx", "model_int8.onnx", "predict.py",
            "samples.npy"} <= set(manifest["files"])
    for key in ("onnx", "onnx_int8"):
        entry = manifest["artifacts"][key]
        assert entry["error"] is None and not entry.get("latency_error"), entry
        assert entry["latency_ms"]["p50"] > 0 and entry["latency_ms"]["p90"] >= entry["latency_ms"]["p50"]
    assert manifest["artifacts"]["onnx"]["max_abs_diff"] <= 1e-4
    assert "onnx_int8" in printed.out  # the summary table

    # Re-exporting one format keeps the other entries, and the bundle still verifies.
    assert main(["export", str(winner_dir), "--format", "onnx", "--no-measure"]) == 0
    again = verify_bundle(winner_dir)
    assert again["artifacts"]["onnx_int8"] == manifest["artifacts"]["onnx_int8"]
    assert again["artifacts"]["onnx"]["latency_ms"] is None


def test_incomplete_winner_folder_is_refused(winner_dir, tmp_path, capsys):
    import shutil

    copy = tmp_path / "w"
    shutil.copytree(winner_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.pop("files", None)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    (copy / "model.safetensors").unlink()
    assert main(["export", str(copy), "--format", "onnx"]) == 2
    assert "model.safetensors is missing" in capsys.readouterr().err


def test_manifest_without_data_config_is_refused(winner_dir, tmp_path, capsys):
    import shutil

    copy = tmp_path / "w"
    shutil.copytree(winner_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.pop("data")
    manifest.pop("files", None)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert main(["export", str(copy), "--format", "onnx", "--no-measure"]) == 2
    assert "no 'data' section" in capsys.readouterr().err



def test_export_with_an_unsupported_opset_changes_nothing(winner_dir, capsys):
    assert main(["export", str(winner_dir), "--format", "onnx", "--no-measure"]) == 0
    before = {name: (winner_dir / name).read_bytes() for name in ("model.onnx", "manifest.json")}
    capsys.readouterr()
    assert main(["export", str(winner_dir), "--format", "onnx", "--opset", "3", "--no-measure"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--opset 3" in err
    assert {name: (winner_dir / name).read_bytes() for name in before} == before


def test_a_format_failing_in_the_converter_keeps_the_earlier_file(winner_dir, digits_splits):
    """export_winner itself (past the command's opset check): the converter fails at opset 3."""
    from pipeline.export import export_winner
    from pipeline.prune import load_pruned

    assert main(["export", str(winner_dir), "--format", "onnx", "--no-measure"]) == 0
    before = (winner_dir / "model.onnx").read_bytes()
    model, _ = load_pruned(winner_dir)
    artifacts = export_winner(model, winner_dir, digits_splits, formats=("onnx",), opset=3)
    assert "opset" in artifacts["onnx"]["error"] and artifacts["onnx"]["path"] is None
    assert (winner_dir / "model.onnx").read_bytes() == before
    assert not [p.name for p in winner_dir.iterdir() if ".tmp-" in p.name]  # no temp file left
    verify_bundle(winner_dir)


@pytest.mark.ssh
def test_a_board_that_is_down_fails_before_the_export(winner_dir, sshd, tmp_path, capsys):
    from pipeline.board.sshd import free_port

    profile = sshd.profile_toml(tmp_path / "down.toml", name="down", port=free_port())
    before = {p.name: p.read_bytes() for p in winner_dir.iterdir() if p.is_file()}
    assert main(["export", str(winner_dir), "--format", "onnx", "--device", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "nothing accepts connections" in err and "export: onnx" not in err
    assert {p.name: p.read_bytes() for p in winner_dir.iterdir() if p.is_file()} == before
