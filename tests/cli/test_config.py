import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import UserError


def test_defaults_are_the_embedded_job():
    cfg = load_config()
    assert (cfg.data.name, cfg.model.name, cfg.device) == ("digits", "resnet20", "host-ort")


def test_file_then_overrides(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('seed = 3\n[search]\npopulation = 6\n')
    cfg = load_config(f, ["search.population=8", "export.formats=onnx", "search.budget_ms=1.5"])
    assert cfg.seed == 3 and cfg.search.population == 8
    assert cfg.export.formats == ["onnx"] and cfg.search.budget_ms == 1.5


@pytest.mark.parametrize("override, words", [
    ("search.popultion=3", "did you mean 'search.population'"),
    ("search.population=abc", "must be int"),
    ("search.latency_source=gpu", "latency_source must be one of"),
    ("search.snap_share=1.5", "snap_share must be a fraction in"),
    ("search.front_audit=-2", "front_audit must be -1"),
    ("search.line_probes=-1", "line_probes must be >= 0"),
    ("search.front_floor=1", r"front_floor must be in \[0, 1\)"),
    ("nonsense", "must look like key=value"),
    ("search=3", "is a section"),
])
def test_bad_overrides_are_one_clear_line(override, words):
    with pytest.raises(UserError, match=words):
        load_config(None, [override])


def test_resolved_config_round_trips(tmp_path):
    from pipeline.config import write_config

    cfg = load_config(None, ["search.generations=3", "recover.method=sfp"])
    write_config(cfg, tmp_path / "config.toml")
    again = load_config(tmp_path / "config.toml")
    assert again.to_dict() == cfg.to_dict()


@pytest.mark.parametrize("argv, words", [
    (["run", "search.popultion=3"], "unknown config key"),
    (["run", "--config", "missing.toml"], "not found"),
    (["run", "device=no-such-board"], "no-such-board"),
])
def test_cli_bad_input_exit_2_without_traceback(argv, words, capsys, tmp_path):
    code = main(argv + ["--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unwritable_out_dir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["run", "--out", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write to output folder" in err


def test_help_is_fast_and_light():
    import subprocess
    import sys

    code = ("import sys, pipeline.cli as c; c.build_parser(); "
            "heavy = [m for m in ('torch', 'onnx', 'litert_torch', 'paramiko', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_config_lists_every_key_with_its_default(capsys):
    assert main(["run", "--help-config"]) == 0
    out = capsys.readouterr().out
    for key in ("seed = 0", "device = 'host-ort'", "search.population = ", "recover.method = 'kd'",
                "export.formats = "):
        assert key in out


def test_resume_refuses_new_overrides(tmp_path, capsys):
    code = main(["run", "--resume", str(tmp_path), "search.population=8"])
    err = capsys.readouterr().err
    assert code == 2 and "--resume takes the run folder's own config" in err
