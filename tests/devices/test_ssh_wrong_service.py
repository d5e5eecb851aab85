"""A port that is not an SSH server: one DeviceError line, no paramiko traceback on stderr."""
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

pytestmark = pytest.mark.ssh


@pytest.fixture
def http_port():
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def silent_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)   # accepts connections (the kernel does), never says a word
    yield listener.getsockname()[1]
    listener.close()


def _check(profile_path):
    return subprocess.run([sys.executable, "-m", "pipeline", "devices", "check", str(profile_path)],
                          capture_output=True, text=True, timeout=60)


def test_a_port_answering_http(sshd, tmp_path, http_port):
    profile = sshd.profile_toml(tmp_path / "http.toml", name="http", port=http_port)
    result = _check(profile)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "not as an SSH server" in result.stderr


def test_a_port_that_stays_silent(sshd, tmp_path, silent_port):
    profile = sshd.profile_toml(tmp_path / "silent.toml", name="silent", port=silent_port,
                                connect_timeout_s=1.0)
    result = _check(profile)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "no SSH banner within 1 s" in result.stderr and "sshd" in result.stderr


def test_an_emulated_board_that_is_down_says_how_to_start_it(sshd, tmp_path):
    from pipeline.board.sshd import free_port

    path = sshd.profile_toml(tmp_path / "emu.toml", name="emu", port=free_port())
    path.write_text(path.read_text().replace('backend = "ssh"', 'backend = "ssh"\nemulated = true'))
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "edgeprune board emulate" in result.stderr and "systemctl" not in result.stderr
