"""A throw-away OpenSSH server on 127.0.0.1 for tests and the benchmark.

Real `sshd` (Debian's openssh-server) with generated ed25519 host and user keys, on a free
port, in a temp dir; `profile_toml()` writes a matching device profile whose "board" runs the
runner with this Python. Loopback only, by design.
"""
from __future__ import annotations

import contextlib
import getpass
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"
HOST = "127.0.0.1"


def sshd_available() -> bool:
    return Path(SSHD).is_file() and shutil.which("ssh-keygen") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


class TestSshd:
    """Start with `TestSshd.start()`, stop with `.stop()` (also removes its folder)."""

    __test__ = False  # a helper, not a pytest test class

    def __init__(self, folder: Path, port: int, process: subprocess.Popen):
        self.folder, self.port, self.process = folder, port, process
        self.host, self.user = HOST, getpass.getuser()
        self.user_key = folder / "user_key"
        self.other_key = folder / "other_key"     # a valid key the server does not accept
        self.known_hosts = folder / "known_hosts"
        self.host_key = folder / "host_key"

    @classmethod
    def start(cls, timeout_s: float = 10.0) -> "TestSshd":
        folder = Path(tempfile.mkdtemp(prefix="edgeprune-sshd-"))
        for name in ("host_key", "user_key", "other_key"):
            _keygen(folder / name)
        (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
        host_pub = (folder / "host_key.pub").read_text().split()
        port = _free_port()
        (folder / "known_hosts").write_text(f"[{HOST}]:{port} {host_pub[0]} {host_pub[1]}\n")
        config = folder / "sshd_config"
        config.write_text("\n".join([
            f"ListenAddress {HOST}", f"Port {port}", f"HostKey {folder / 'host_key'}",
            f"AuthorizedKeysFile {folder / 'authorized_keys'}", f"PidFile {folder / 'sshd.pid'}",
            "StrictModes no", "UsePAM no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp",
            "LogLevel ERROR", "MaxSessions 50", "MaxStartups 50", ""]))
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation dir
        with open(folder / "sshd.log", "wb") as log:
            # No inherited stdout (a caller's pipe would stay open), and it dies with us.
            process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=log, preexec_fn=_die_with_parent)
        server = cls(folder, port, process)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = (folder / "sshd.log").read_text()
                server.stop()
                raise RuntimeError(f"sshd exited: {log.strip()[-500:]}")
            with socket.socket() as s:
                if s.connect_ex((HOST, port)) == 0:
                    return server
            time.sleep(0.05)
        server.stop()
        raise RuntimeError(f"sshd did not listen on {HOST}:{port} within {timeout_s} s")

    def profile_toml(self, path, name: str = "loopback-board", python: str = sys.executable,
                     measure: dict | None = None, drift: dict | None = None,
                     **ssh_overrides) -> Path:
        """A device profile for this server; the board's Python defaults to ours.

        `measure` and `drift` fill those sections (drift is off unless given: a tiny test model
        on a shared host moves more than any sensible tolerance).
        """
        ssh = {"host": self.host, "port": self.port, "user": self.user,
               "key_file": str(self.user_key), "known_hosts": str(self.known_hosts),
               "python": python, "workdir": str(self.folder / "remote-work"),
               "connect_timeout_s": 5.0}
        ssh.update(ssh_overrides)
        lines = [f'name = "{name}"', 'backend = "ssh"', 'runtime = "onnxruntime"',
                 "threads = 1", "[measure]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in (measure or {}).items()]
        drift = drift or {"every": 0}
        lines += ["[drift]"] + [f"{k} = {_toml_value(v)}" for k, v in drift.items()]
        lines += ["[ssh]"] + [f"{k} = {_toml_value(v)}" for k, v in ssh.items()]
        path = Path(path)
        path.write_text("\n".join(lines) + "\n")
        return path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _die_with_parent() -> None:
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

