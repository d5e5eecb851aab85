"""`edgeprune deploy` against a real OpenSSH server on 127.0.0.1 (the "board")."""
import json
import shutil
import sys

import pytest

from pipeline.cli import main

pytestmark = pytest.mark.ssh


@pytest.fixture
def board(sshd, tmp_path):
    """A device profile for the loopback sshd; its Python is this one (numpy + both runtimes)."""
    def make(python: str = sys.executable):
        return str(sshd.profile_toml(tmp_path / "board.toml", name="loopback-board", python=python))
    return make


def test_deploy_runs_every_format_on_the_board(exported, board, capsys):
    out, artifacts, _ = exported
    assert main(["deploy", str(out), "--device", board(), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert set(results) == set(artifacts)
    expected = json.loads((out / "manifest.json").read_text())["samples"]["expected_top1"]
    for key, result in results.items():
        assert result["status"] == "ok" and result["top1"] == expected[key]


def test_wrong_answers_on_the_board_fail(exported, board, tmp_path, capsys):
    out, _, _ = exported
    copy = tmp_path / "bundle"
    shutil.copytree(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    expected = manifest["samples"]["expected_top1"]["onnx"]
    expected[0] = (expected[0] + 1) % 10  # the manifest now expects another class
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert main(["deploy", str(copy), "--device", board(), "--format", "onnx"]) == 2
    assert "answers differ on samples [0]" in capsys.readouterr().err


def test_missing_runtime_on_the_board_is_skipped_not_failed(exported, board, tmp_path, capsys):
    out, _, _ = exported
    # A board Python where `import onnxruntime` fails, as on a TFLite-only board.
    blocker = tmp_path / "no-ort"
    (blocker / "onnxruntime").mkdir(parents=True)
    (blocker / "onnxruntime" / "__init__.py").write_text("raise ImportError('not installed')\n")
    python = tmp_path / "python-without-ort"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{blocker}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    assert main(["deploy", str(out), "--device", board(str(python)), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["onnx"]["status"] == "no runtime"
    assert results["tflite"]["status"] == "ok"


def test_tampered_bundle_never_leaves_the_host(exported, board, tmp_path, capsys):
    out, _, _ = exported
    copy = tmp_path / "bundle"
    shutil.copytree(out, copy)
    (copy / "samples.npy").write_bytes(b"not the samples")
    assert main(["deploy", str(copy), "--device", board()]) == 2
    assert "sha256" in capsys.readouterr().err


def test_deploy_needs_an_ssh_profile(exported, capsys):
    out, _, _ = exported
    assert main(["deploy", str(out), "--device", "host-ort"]) == 2
    assert "not an SSH board" in capsys.readouterr().err


def test_the_board_runs_our_predict_py_not_the_bundles(exported, board, tmp_path, capsys):
    """A hostile bundle whose manifest lists the sha256 of its own predict.py."""
    from pipeline.export.bundle import sha256_file

    out, _, _ = exported
    copy = tmp_path / "bundle"
    shutil.copytree(out, copy)
    marker = tmp_path / "BUNDLE_CODE_RAN"
    (copy / "predict.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["predict.py"] = sha256_file(copy / "predict.py")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert main(["deploy", str(copy), "--device", board(), "--format", "onnx"]) == 0
    assert "onnx: ok" in capsys.readouterr().out
    assert not marker.exists()
