"""`edgeprune devices`, `profile`, `cache`: output, JSON, and one-line errors with exit 2."""
import json

from pipeline.cli import main
from tests.devices.conftest import write_profile


def test_devices_lists_shipped_profiles(capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "host-ort" in out and "rpi4" in out and "ssh" in out


def test_profile_table_json_and_cache(onnx_model, local_profile, capsys):
    assert main(["profile", "--device", str(local_profile), str(onnx_model)]) == 0
    table = capsys.readouterr().out
    assert "p50 ms" in table and "tiny.onnx" in table and table.rstrip().endswith("no")
    assert main(["profile", "--device", str(local_profile), "--json", str(onnx_model)]) == 0
    data = json.loads(capsys.readouterr().out)
    [model] = data["models"]
    assert model["cached"] and model["stats"]["n"] == 5 and data["input_shape"] == [1, 3, 16, 16]
    assert main(["cache", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert any(g["profile"] == local_profile.stem for g in stats["groups"])
    assert main(["cache", "clear", "--device", local_profile.stem]) == 0
    assert "removed 1" in capsys.readouterr().out


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("edgeprune: error:") and "\n" not in err
    return err


def test_bad_inputs_exit_2_with_one_line(tmp_path, onnx_model, capsys):
    assert "unknown device profile 'nope'" in _one_line_error(
        capsys, ["profile", "--device", "nope", str(onnx_model)])
    bad_backend = tmp_path / "b.toml"
    bad_backend.write_text('backend = "serial"\n')
    assert "unknown backend" in _one_line_error(
        capsys, ["devices", "check", str(bad_backend)])
    bad_runtime = write_profile(tmp_path / "r.toml", runtime="tvm")
    assert "unknown runtime" in _one_line_error(
        capsys, ["profile", "--device", str(bad_runtime), str(onnx_model)])
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage\xff\xff")
    assert "not a valid ONNX file" in _one_line_error(
        capsys, ["profile", "--device", "host-ort", str(corrupt)])
    assert "--input-shape" in _one_line_error(
        capsys, ["profile", "--device", "host-ort", "--input-shape", "1,x", str(onnx_model)])


def test_cli_modules_import_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, pipeline.commands.devices, pipeline.commands.profile, "
            "pipeline.commands.cache, pipeline.devices; "
            "heavy = {'onnx', 'onnxruntime', 'paramiko', 'numpy', 'torch'} & set(sys.modules); "
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
