"""Links to a running runner (runner.py): a local process, or a process on a board over SSH.

A link sends one JSON request line and reads one JSON answer line, with a timeout.
`LinkLost` means the connection (not the model) failed: the device may reconnect and retry.
"""
from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipeline.errors import DeviceError

RUNNER_PATH = Path(__file__).with_name("runner.py")


class LinkLost(Exception):
    """The connection to the runner dropped; retrying on a fresh connection may succeed."""


def _cores_arg(profile) -> list[str]:
    return ["--cores", ",".join(str(c) for c in profile.cores)] if profile.cores else []


def _decode_answer(profile, line: bytes, stderr_tail: str) -> dict:
    try:
        return json.loads(line)
    except ValueError:
        raise DeviceError(f"{profile.name}: the runner answered garbage {line[:80]!r}; "
                          f"its stderr: {stderr_tail[-300:]}") from None


class LocalLink:
    """The runner in a child process of this host: latency is measured in its own process."""

    def __init__(self, profile):
        self.profile = profile
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, str(RUNNER_PATH), *_cores_arg(profile)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self._lines: queue.Queue = queue.Queue()
        # A thread turns the blocking pipe into a queue so each answer can have a timeout.
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(b"")

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def stage(self, path: Path, keep: bool = False) -> tuple[str, bool]:
        """(path the runner opens, whether the runner deletes it after measuring)."""
        return str(Path(path).resolve()), False

    def request(self, message: dict, timeout_s: float) -> dict:
        try:
            self._proc.stdin.write(json.dumps(message).encode() + b"\n")
            self._proc.stdin.flush()
            line = self._lines.get(timeout=timeout_s)
        except BrokenPipeError:
            line = b""
        except queue.Empty:
            self.close()
            raise DeviceError(f"{self.profile.name}: no answer from the runner within "
                              f"{timeout_s} s; raise [measure] run_timeout_s for big models"
                              ) from None
        if not line:
            code = self._proc.wait(timeout=5)
            raise DeviceError(f"{self.profile.name}: the runner process died (exit code {code}) "
                              f"during {message.get('op')} of {message.get('path', '-')}; "
                              f"its stderr: {self.stderr_tail()[-300:].strip()}")
        return _decode_answer(self.profile, line, self.stderr_tail())

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()


class SshLink:
    """The runner on a board: uploaded once per session into a temp dir, fed over one channel."""

    def __init__(self, profile, leftover_dirs=()):
        from pipeline.devices import ssh

        self.profile = profile
        self.session = ssh.connect(profile)
        try:
            # Dirs of a dropped session are removed when this one closes.
            self.session._temp_dirs.extend(leftover_dirs)
            self.remote_dir = self.session.mkdtemp()
            remote_runner = f"{self.remote_dir}/runner.py"
            self.session.put(RUNNER_PATH, remote_runner)
            self._channel = self.session.open_channel(
                [profile.python, remote_runner, *_cores_arg(profile)])
        except Exception:
            self.session.close()
            raise
        self._buffer = bytearray()
        self._stderr = bytearray()
        self._staged: dict[str, str] = {}
        self._count = 0

    @property
    def temp_dirs(self) -> list[str]:
        return list(self.session._temp_dirs)

    def stage(self, path: Path, keep: bool = False) -> tuple[str, bool]:
        local = str(Path(path).resolve())
        if local in self._staged:
            return self._staged[local], False
        self._count += 1
        remote = f"{self.remote_dir}/m{self._count}{Path(path).suffix.lower()}"
        self._guard(lambda: self.session.put(local, remote))
        if keep:
            self._staged[local] = remote
        return remote, not keep

    def _guard(self, action):
        try:
            return action()
        except (OSError, EOFError, DeviceError) as exc:
            if not self.session.alive:
                raise LinkLost(str(exc) or type(exc).__name__) from None
            raise

    def _drain_stderr(self):
        while self._channel.recv_stderr_ready():
            self._stderr += self._channel.recv_stderr(65536)
        del self._stderr[:-4000]

    def stderr_tail(self) -> str:
        return self._stderr.decode(errors="replace")

    def _read_line(self, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            self._channel.settimeout(min(remaining, 1.0))
            try:
                data = self._channel.recv(65536)
            except socket.timeout:
                self._drain_stderr()
                if not self.session.alive:
                    raise LinkLost("connection dropped") from None
                continue
            if not data:
                return b""
            self._buffer += data
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def request(self, message: dict, timeout_s: float) -> dict:
        import paramiko

        try:
            self._channel.sendall(json.dumps(message).encode() + b"\n")
            line = self._read_line(timeout_s)
        except socket.timeout:
            self.close()
            raise DeviceError(f"{self.profile.name}: no answer from the runner on the board "
                              f"within {timeout_s} s; raise [measure] run_timeout_s for big "
                              "models") from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from None
        self._drain_stderr()
        if not line:
            if not self.session.alive:
                raise LinkLost("connection closed")
            time.sleep(0.1)
            code = self._channel.recv_exit_status() if self._channel.exit_status_ready() else "?"
            self._drain_stderr()
            tail = self.stderr_tail()[-300:].strip()
            if code == 127 or "not found" in tail:
                raise DeviceError(
                    f"{self.profile.name}: remote Python {self.profile.python!r} not found on the "
                    "board; install python3 there or set [ssh] python to its path")
            raise DeviceError(f"{self.profile.name}: the runner on the board exited (code {code})"
                              f" during {message.get('op')} of {message.get('path', '-')}; "
                              f"its stderr: {tail}")
        return _decode_answer(self.profile, line, self.stderr_tail())

    def close(self) -> None:
        try:
            if self.session.alive:
                self._channel.shutdown_write()
                self._channel.close()
        except (OSError, EOFError):
            pass
        self.session.close()
