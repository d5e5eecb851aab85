"""`edgeprune run` end to end with its latencies measured on the emulated aarch64 board.

A tiny budget (1 epoch, 4 individuals, 1 generation): a few minutes, most of it emulation.
"""
import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ssh]

TINY_BUDGET = [
    "model.name=resnet20-tiny", "train.epochs=1", "search.population=4",
    "search.generations=1", "search.sensitivity=false", "search.front_finetune_steps=2",
    "search.refine_per_generation=0", "recover.epochs=1", "winners=1",
]


def test_run_with_the_emulated_board_completes_and_says_emulated(board, tmp_path):
    out = tmp_path / "run"
    board.cli("run", "--device", "qemu-arm64", "--out", str(out), *TINY_BUDGET,
              timeout_s=1500)
    assert json.loads((out / "status.json").read_text())["complete"] is True
    evaluations = [json.loads(line) for line in
                   (out / "evaluations.jsonl").read_text().splitlines() if line]
    measured = [e for e in evaluations if e["latency_source"] == "device" and not e["cached"]]
    assert measured and all(e["latency_ms"]["p50"] > 0 for e in measured)
    pareto = json.loads((out / "pareto.json").read_text())
    assert pareto["device"] == "qemu-arm64" and pareto["device_emulated"] is True
    # Emulation times must never pass for a board's: the report says so.
    assert "emulat" in (out / "report.html").read_text().lower()


def test_run_on_the_board_checks_int8_there_and_deploy_passes(board, tmp_path):
    """The user's path: run on the ARM board, then deploy the winner with its int8 files."""
    out = tmp_path / "run"
    board.cli("run", "--device", "qemu-arm64", "--out", str(out), *TINY_BUDGET,
              "search.generations=2", "search.round_to=2", "export.max_int8_drop=0.05",
              "search.supernet_epochs=1",
              timeout_s=1500)
    (winner,) = [p for p in (out / "winners").iterdir() if p.is_dir()]
    manifest = json.loads((winner / "manifest.json").read_text())
    for key in ("onnx_int8", "tflite_int8"):
        entry = manifest["artifacts"][key]
        assert entry["device_check"]["machine"] == "aarch64", entry
        assert entry["device_check"]["ok"] is True, entry
        assert entry["path"], entry["error"]
    done = board.cli("deploy", str(winner), "--device", "qemu-arm64", timeout_s=900)
    assert "tflite_int8: ok" in done.stdout and "onnx_int8: ok" in done.stdout
    assert "EMULATED" in done.stdout
