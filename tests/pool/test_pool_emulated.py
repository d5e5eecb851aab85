"""Two emulated aarch64 boards on two loopback ports as one pool; one is switched off while
a generation is being measured, and no measurement is lost.

Slow: the board's rootfs is built once (about 40 s, kept in $EDGEPRUNE_BOARD_DIR or the temp
dir, shared with tests/board), each board's runner starts under qemu in seconds.
"""
import os
import tempfile
import threading
from pathlib import Path

import pytest

from tests.board.conftest import edgeprune, require_board_host

pytestmark = [pytest.mark.slow, pytest.mark.ssh]

SHAPE = (1, 3, 16, 16)
NAMES = ("pool-a", "pool-b")


@pytest.fixture(scope="module")
def two_boards(tmp_path_factory):
    from pipeline.board.sshd import free_port

    require_board_host()
    folder = Path(os.environ.get("EDGEPRUNE_BOARD_DIR")
                  or Path(tempfile.gettempdir()) / f"edgeprune-board-{os.getuid()}")
    env = dict(os.environ, EDGEPRUNE_NO_PROGRESS="1",
               EDGEPRUNE_PROFILES=str(tmp_path_factory.mktemp("profiles")))
    ports = []
    for name in NAMES:
        port = free_port()
        done = edgeprune("board", "emulate", "--dir", str(folder), "--name", name, "--port",
                         str(port), "--no-install-profile", env=env)
        assert f"127.0.0.1:{port}" in done.stdout
        ports.append(port)
    yield folder, ports, env
    for name in NAMES:
        edgeprune("board", "stop", "--dir", str(folder), "--name", name, env=env, check=False)


def pool_profile(folder: Path, out: Path) -> Path:
    from pipeline.board.profile import write_pool_profile

    path = write_pool_profile(folder, list(NAMES), out)
    text = path.read_text().replace("[measure]\n", "[measure]\nmax_retries = 1\n")
    path.write_text(text)  # a switched-off board is given up after one reconnect attempt
    return path


def test_devices_check_names_every_board_of_the_pool(two_boards, tmp_path):
    folder, ports, env = two_boards
    path = pool_profile(folder, tmp_path)
    out = edgeprune("devices", "check", str(path), env=env, timeout_s=300).stdout
    assert "qemu-pool: OK" in out
    assert all(f"127.0.0.1:{p}" in out for p in ports)
    assert "set aside" not in out


def test_a_board_switched_off_mid_generation_loses_no_measurement(two_boards, tmp_path, capsys):
    """Runs last: it switches the second board off."""
    from pipeline import board
    from pipeline.devices import load_profile
    from pipeline.devices.device import Device
    from pipeline.devices.testing_models import make_conv_onnx
    from pipeline.pool import BoardPool

    folder, ports, env = two_boards
    profile = load_profile(pool_profile(folder, tmp_path))
    assert len(profile.hosts) == 2
    models = [make_conv_onnx(tmp_path / f"m{w}.onnx", widths=(w, 2 * w), input_shape=SHAPE)
              for w in range(4, 36, 2)]
    victim = f"127.0.0.1:{ports[1]}"
    calls = {"n": 0}
    stopper = []

    class SwitchedOffBoard(Device):
        """The second board; during its third measurement the board is switched off."""

        def measure(self, paths, input_shape):
            calls["n"] += 1
            if calls["n"] == 3:
                t = threading.Timer(0.05, board.stop, [folder, NAMES[1]])
                t.start()
                stopper.append(t)
            return super().measure(paths, input_shape)

    def factory(p):
        return SwitchedOffBoard(p) if p.port == ports[1] else Device(p)

    pool = BoardPool(profile, device_factory=factory)
    try:
        ms = pool.measure(models, SHAPE)
    finally:
        pool.close()
        for t in stopper:
            t.join()
    assert len(ms) == len(models) and all(m.stats.p50_ms > 0 and m.stats.n > 0 for m in ms)
    boards = [m.facts["board"] for m in ms]
    assert victim in pool.set_aside and pool.requeued >= 1
    assert boards.count(victim) >= 1, "the second board measured before it was switched off"
    assert boards.count(f"127.0.0.1:{ports[0]}") > boards.count(victim)
    assert "go back to the queue" in capsys.readouterr().err
    assert all(m.facts["runtime_version"] for m in ms)  # the aarch64 runtime measured each

