"""Fast checks of the board's parts: profile, sshd config, pid safety, scripts, Dockerfiles."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.board import board_dir, lifecycle, profile, sshd
from pipeline.board.rootfs import SETUP_SCRIPT
from pipeline.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def test_profile_loads_with_the_device_layer_and_says_emulated(tmp_path):
    from pipeline.devices import load_profile

    written = profile.write_profiles(tmp_path, 2345, install_to=tmp_path / "profiles")
    local, installed = (load_profile(p) for p in written)
    for prof in (local, installed):
        assert (prof.name, prof.backend, prof.host, prof.port) == (
            "qemu-arm64", "ssh", "127.0.0.1", 2345)
        assert prof.key_file == str(tmp_path.resolve() / "ssh" / "id_ed25519")
        assert prof.known_hosts == str(tmp_path.resolve() / "ssh" / "known_hosts")
        assert prof.python == str(tmp_path.resolve() / "bin" / "python3")
        assert not prof.trust_on_first_use
        assert "EMULATED" in prof.description
        assert getattr(prof, "emulated", True) is True  # where the schema has the flag


def test_known_hosts_pins_the_board_host_key_for_its_port(tmp_path):
    folder = sshd.ssh_dir(tmp_path)
    folder.mkdir()
    (folder / "ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAAkey comment\n")
    text = sshd.write_known_hosts(tmp_path, 2345).read_text()
    assert text == "[127.0.0.1]:2345 ssh-ed25519 AAAAkey\n"


@pytest.mark.skipif(not Path("/usr/sbin/sshd").is_file(), reason="needs openssh-server")
def test_sshd_accepts_the_generated_config(tmp_path):
    sshd.ensure_keys(tmp_path)
    config = sshd.write_config(tmp_path, 2345)
    done = subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(config)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ListenAddress 127.0.0.1" in config.read_text()


def test_a_pid_file_naming_another_process_is_not_ours(tmp_path):
    folder = sshd.ssh_dir(tmp_path)
    folder.mkdir()
    (folder / "sshd.pid").write_text(f"{os.getpid()}\n")  # alive, but not our sshd
    assert sshd.running_pid(tmp_path) is None
    assert sshd.stop(tmp_path) is None


def test_status_of_an_empty_folder(tmp_path):
    info = lifecycle.status(tmp_path)
    assert (info.built, info.running, info.port) == (False, False, None)


def test_board_dir_rejects_paths_sshd_config_cannot_hold(tmp_path):
    with pytest.raises(UserError, match="spaces or quotes"):
        board_dir(tmp_path / "my board")
    assert board_dir(tmp_path / "b") == (tmp_path / "b").resolve()


def test_setup_script_parses_and_refuses_unknown_modes():
    assert subprocess.run(["sh", "-n", str(SETUP_SCRIPT)]).returncode == 0
    done = subprocess.run(["sh", str(SETUP_SCRIPT), "bogus"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr


@pytest.mark.parametrize("dockerfile", ["docker/Dockerfile", "docker/board/Dockerfile"])
def test_dockerfiles_only_wrap_scripts_that_exist(dockerfile):
    """Docker cannot run in CI: each Dockerfile must run repo scripts (by repo path, from
    WORKDIR) that CI does run, and copy only what exists."""
    text = (REPO / dockerfile).read_text()
    assert "WORKDIR /opt/edgeprune" in text
    copied = re.findall(r"^COPY\s+(\S+)\s+\S+$", text, re.M)
    scripts = re.findall(r"\bsh\s+(\S+\.sh)\b", text)
    assert copied and scripts
    for source in copied:
        assert (REPO / source).exists(), source
    for script in scripts:
        assert (REPO / script).is_file(), script
        copies_it = any(c == "." or script.startswith(c.rstrip("/")) for c in copied)
        assert copies_it, f"{script} is not copied into the image"
        assert subprocess.run(["sh", "-n", str(REPO / script)]).returncode == 0


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs openssh-client")
def test_keys_are_generated_once(tmp_path):
    sshd.ensure_keys(tmp_path)
    first = (sshd.ssh_dir(tmp_path) / "ssh_host_ed25519_key.pub").read_text()
    sshd.ensure_keys(tmp_path)
    assert (sshd.ssh_dir(tmp_path) / "ssh_host_ed25519_key.pub").read_text() == first
    assert (sshd.ssh_dir(tmp_path) / "authorized_keys").read_text() == (
        sshd.ssh_dir(tmp_path) / "id_ed25519.pub").read_text()


def test_a_named_board_has_its_own_profile_and_shares_the_folders_python(tmp_path):
    from pipeline.devices import load_profile

    inst = lifecycle.instance_dir(tmp_path, "b2")
    assert inst == tmp_path / "boards" / "b2" and lifecycle.instance_dir(tmp_path) == tmp_path
    inst.mkdir(parents=True)
    written = profile.write_profiles(inst, 2346, None, name="b2", python=tmp_path / "bin" / "python3")
    prof = load_profile(written[0])
    assert (prof.name, prof.port) == ("b2", 2346)
    assert prof.python == str(tmp_path.resolve() / "bin" / "python3")
    assert prof.key_file == str(inst.resolve() / "ssh" / "id_ed25519")


@pytest.mark.parametrize("name", ["B2", "../x", "a b", ""])
def test_board_names_are_checked_before_any_work(tmp_path, name):
    if not name:
        assert lifecycle.instance_dir(tmp_path, name) == tmp_path
        return
    with pytest.raises(UserError, match="board name"):
        lifecycle.emulate(tmp_path / "never-built", name=name)
    assert not (tmp_path / "never-built").exists()
