"""Per-user folders: the cache (XDG) and the profiles `board emulate` writes, found by name."""
from pathlib import Path

import pytest

from pipeline import paths
from pipeline.errors import UserError


def test_cache_is_per_user_not_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("EDGEPRUNE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert paths.cache_dir() == tmp_path / "xdg" / "edgeprune"
    assert not (tmp_path / ".edgeprune-cache").exists()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.cache_dir() == tmp_path / "home" / ".cache" / "edgeprune"
    monkeypatch.setenv("EDGEPRUNE_CACHE", str(tmp_path / "mine"))   # still overrides
    assert paths.cache_dir() == tmp_path / "mine"


def test_a_board_profile_is_written_per_user_and_found_by_name(tmp_path, monkeypatch):
    from pipeline.board.profile import PROFILE_NAME, write_profiles
    from pipeline.devices.profile import list_profiles, load_profile

    monkeypatch.setenv("EDGEPRUNE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "board").mkdir()
    shipped = sorted(paths.PROFILES_DIR.glob("*"))
    write_profiles(tmp_path / "board", 2345, paths.user_profiles_dir())
    assert (tmp_path / "cache" / "profiles" / f"{PROFILE_NAME}.toml").is_file()
    assert sorted(paths.PROFILES_DIR.glob("*")) == shipped   # the source tree is untouched
    assert PROFILE_NAME in list_profiles() and "host-ort" in list_profiles()
    assert load_profile(PROFILE_NAME).port == 2345


def test_user_path_turns_os_refusals_into_one_line(tmp_path):
    with pytest.raises(UserError, match="cannot be used .File name too long"):
        paths.user_path(tmp_path / ("x" * 300), "weights file")
    with pytest.raises(UserError, match="not found; pass it"):
        paths.user_path(tmp_path / "nope", "weights file", hint="pass it")
    with pytest.raises(UserError, match="is a folder"):
        paths.user_path(tmp_path, "weights file", "file")
    assert paths.user_path(tmp_path, "run folder", "dir") == Path(tmp_path)


def test_show_path_keeps_both_ends_of_a_long_path():
    shown = paths.show_path("/a/" + "b" * 300 + "/model.onnx")
    assert len(shown) <= 80 and shown.startswith("/a/") and shown.endswith("/model.onnx")
