"""`edgeprune finetune` on a small run folder: config.toml + winners/<id>/ with a pruned model."""
import json

import pytest

torch = pytest.importorskip("torch")

from pipeline.cli import main  # noqa: E402


@pytest.fixture()
def run_dir(tmp_path, teacher, digits8):
    from safetensors.torch import save_file

    from pipeline.config import Config, write_config
    from pipeline.prune import SearchSpace, apply_genome, save_pruned

    model, _ = teacher
    weights = tmp_path / "teacher.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    cfg = Config()
    cfg.model.name, cfg.model.weights = "resnet20-tiny", str(weights)
    cfg.data.image_size = 8
    cfg.recover.epochs = 1
    write_config(cfg, tmp_path / "config.toml")
    example = digits8.x_train[:1]
    genome = SearchSpace.from_model(model, example).uniform(0.5)
    winner = tmp_path / "winners" / "fastest"
    save_pruned(winner, apply_genome(model, genome, example), "resnet20-tiny", genome,
                {"reason": "fastest"}, num_classes=10, in_channels=1, input_shape=(1, 1, 8, 8))
    manifest = {"id": "fastest", "reason": "fastest", "model": "resnet20-tiny", "channels": genome,
                "data": {"name": "digits", "image_size": 8}, "seed": 0,
                "latency_ms": {"p50": 0.1, "p90": 0.12}, "artifacts": {"onnx": {"path": "model.onnx"}}}
    (winner / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path, winner, genome


def test_finetune_writes_a_new_folder_with_the_same_architecture(run_dir):
    from pipeline.prune import load_pruned, read_record

    _, winner, genome = run_dir
    before = (winner / "model.safetensors").read_bytes()
    assert main(["finetune", str(winner), "--epochs", "1", "--seed", "3"]) == 0
    out = winner.parent / "fastest-kd"
    assert read_record(out)["channels"] == genome
    load_pruned(out)  # the saved weights fit the architecture
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recovery"]["method"] == "kd" and manifest["recovery"]["seed"] == 3
    assert manifest["artifacts"] == {} and manifest["latency_ms"]["p50"] == 0.1
    assert manifest["seed"] == 0  # the data split stays the run's
    assert (winner / "model.safetensors").read_bytes() == before  # the winner is untouched


def test_finetune_with_a_schedule_and_an_explicit_out(run_dir, tmp_path):
    from pipeline.prune import read_record

    _, winner, genome = run_dir
    out = tmp_path / "ghfp-out"
    assert main(["finetune", str(winner), "--method", "ghfp", "--epochs", "2", "--out", str(out)]) == 0
    assert read_record(out)["channels"] == genome


def test_finetune_outside_a_run_needs_a_teacher(run_dir, tmp_path_factory, capsys):
    import shutil

    run, winner, _ = run_dir
    lone = tmp_path_factory.mktemp("no-run") / "w"  # no config.toml above it
    shutil.copytree(winner, lone)
    assert main(["finetune", str(lone), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--teacher" in err[0]
    assert main(["finetune", str(lone), "--epochs", "1", "--teacher",
                 str(run / "teacher.safetensors")]) == 0
