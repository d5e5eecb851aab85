"""The emulated board, started once per test session and stopped after it.

Its rootfs is kept between sessions in $EDGEPRUNE_BOARD_DIR (CI points it at a cached
folder), else in a fixed folder under the system temp dir: only the first run builds it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLS = ("qemu-aarch64-static", "debootstrap", "sshd", "ssh-keygen")
INSTALL = "apt-get install -y qemu-user-static debootstrap openssh-server"


def require_board_host():
    missing = [t for t in TOOLS if not (shutil.which(t) or shutil.which(t, path="/usr/sbin"))]
    message = None
    if missing:
        message = f"the emulated board needs {', '.join(missing)}: {INSTALL}"
    elif os.geteuid() != 0:
        message = "the emulated board is built and served as root (debootstrap, sshd)"
    if message:
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must provide it)")
        pytest.skip(message)


def edgeprune(*args, env, timeout_s=1800, check=True):
    """Run the real command line in a process of its own, as a user would."""
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, text=True,
                          capture_output=True, timeout=timeout_s)
    if check and done.returncode != 0:
        raise AssertionError(f"edgeprune {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


@dataclass
class Board:
    folder: Path
    env: dict            # EDGEPRUNE_PROFILES points at a temp folder holding qemu-arm64.toml
    emulate_stdout: str
    emulate_s: float

    def cli(self, *args, timeout_s=600):
        return edgeprune(*args, env=self.env, timeout_s=timeout_s)


@pytest.fixture(scope="session")
def board(tmp_path_factory):
    import time

    from pipeline.board.sshd import free_port

    require_board_host()
    folder = Path(os.environ.get("EDGEPRUNE_BOARD_DIR")
                  or Path(tempfile.gettempdir()) / f"edgeprune-board-{os.getuid()}")
    profiles = tmp_path_factory.mktemp("profiles")
    # The installed profile goes to a temp profiles folder, never into the repository's.
    env = dict(os.environ, EDGEPRUNE_PROFILES=str(profiles), EDGEPRUNE_NO_PROGRESS="1")
    start = time.monotonic()
    done = edgeprune("board", "emulate", "--dir", str(folder), "--port", str(free_port()),
                     env=env)
    yield Board(folder, env, done.stdout, time.monotonic() - start)
    edgeprune("board", "stop", "--dir", str(folder), env=env)
