"""`edgeprune run` checks what it can before it writes or loads anything: the SSH board answers,
and the resolved config it writes names absolute paths (it repeats from any directory)."""
import pytest

from pipeline.cli import main
from pipeline.config import load_config, write_config
from pipeline.validate import absolute_paths


@pytest.mark.ssh
def test_a_board_that_is_down_fails_before_data_and_training(sshd, tmp_path, capsys):
    from pipeline.board.sshd import free_port

    profile = sshd.profile_toml(tmp_path / "down.toml", name="down", port=free_port())
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), f"device={profile}", "model.name=resnet20-tiny"]) == 2
    err = capsys.readouterr().err
    assert "nothing accepts connections" in err
    assert "data:" not in err and "baseline" not in err   # no data loaded, nothing trained
    assert not out.exists()


def test_the_written_config_repeats_from_any_directory(tmp_path, monkeypatch):
    (tmp_path / "images").mkdir()
    (tmp_path / "w.pt").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(overrides=["data.name=folder", "data.path=images", "model.weights=w.pt",
                                 "device=./profile.toml"])
    absolute_paths(cfg)
    write_config(cfg, tmp_path / "config.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = load_config(tmp_path / "config.toml")
    assert again.data.path == str(tmp_path / "images")
    assert again.model.weights == str(tmp_path / "w.pt")
    assert again.device == str(tmp_path / "profile.toml")
