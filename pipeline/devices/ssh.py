"""SSH sessions to a board (paramiko): key auth, verified host keys, quoted commands.

`connect(profile)` returns an `SshSession`; the SSH device and `edgeprune deploy` share it.
Every failure becomes a one-line `DeviceError` that says what to fix on which side.
"""
from __future__ import annotations

import logging
import shlex
import socket
import time
from pathlib import Path

from pipeline.errors import DeviceError
from pipeline.progress import status

POLL_S = 0.001


def quote_argv(argv) -> str:
    return " ".join(shlex.quote(str(a)) for a in argv)


def _where(profile) -> str:
    return f"{profile.user}@{profile.host}:{profile.port}"


def _load_key(profile):
    import paramiko

    path = Path(profile.key_file).expanduser()
    if not path.is_file():
        raise DeviceError(
            f"{profile.name}: key file {path} does not exist; create one with "
            f"`ssh-keygen -t ed25519 -f {path}` and install it on the board with "
            f"`ssh-copy-id -i {path} -p {profile.port} {profile.user}@{profile.host}`")
    try:
        return paramiko.PKey.from_path(str(path))
    except paramiko.PasswordRequiredException:
        raise DeviceError(f"{profile.name}: key file {path} is passphrase-protected; use an "
                          "unencrypted key kept for this board") from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        raise DeviceError(f"{profile.name}: key file {path} is not a usable private key "
                          f"({exc})") from None


def _tofu_policy(known_hosts: Path):
    import paramiko

    class TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
        """Opt-in: record an unknown host's key; a *changed* key is still rejected."""

        def missing_host_key(self, client, hostname, key):
            client.get_host_keys().add(hostname, key.get_name(), key)
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with open(known_hosts, "a") as f:
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
            status(f"trusting new host key of {hostname} ({key.get_name()}), "
                   f"recorded in {known_hosts}")

    return TrustOnFirstUse()


def connect(profile) -> "SshSession":
    """Open an authenticated session to the profile's board, or raise a DeviceError.

    `profile` is a DeviceProfile, a profile name or a path to a .toml.
    """
    import paramiko

    from pipeline.devices.profile import load_profile

    profile = load_profile(profile)
    # paramiko logs its transport thread's failures with full tracebacks; every failure
    # below becomes one DeviceError line instead.
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    logging.getLogger("paramiko").propagate = False
    pkey = _load_key(profile)
    known_hosts = Path(profile.known_hosts).expanduser()
    client = paramiko.SSHClient()
    if known_hosts.is_file():
        client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(
        _tofu_policy(known_hosts) if profile.trust_on_first_use else paramiko.RejectPolicy())
    where = _where(profile)
    timeout_s = profile.connect_timeout_s
    started = time.monotonic()
    try:
        client.connect(profile.host, port=profile.port, username=profile.user, pkey=pkey,
                       timeout=timeout_s, banner_timeout=timeout_s, auth_timeout=timeout_s,
                       allow_agent=False, look_for_keys=False)
    except paramiko.BadHostKeyException:
        client.close()
        raise DeviceError(
            f"{profile.name}: the host key of {profile.host}:{profile.port} does NOT match "
            f"{known_hosts}; if the board was reinstalled, remove the old entry with "
            f"`ssh-keygen -R '[{profile.host}]:{profile.port}' -f {known_hosts}`, "
            "otherwise do not connect") from None
    except paramiko.AuthenticationException:
        client.close()
        raise DeviceError(
            f"{profile.name}: {where} refused key {profile.key_file}; add its .pub to "
            f"~{profile.user}/.ssh/authorized_keys on the board (ssh-copy-id)") from None
    except paramiko.ssh_exception.NoValidConnectionsError:
        client.close()
        if getattr(profile, "emulated", False):
            raise DeviceError(f"{profile.name}: the emulated board is not running (nothing "
                              f"listens at {profile.host}:{profile.port}); start it with "
                              "`edgeprune board emulate`") from None
        raise DeviceError(f"{profile.name}: nothing accepts connections at {profile.host}:"
                          f"{profile.port}; is the board on and sshd running "
                          "(`sudo systemctl enable --now ssh`)? is the port right?") from None
    except (socket.timeout, TimeoutError):
        client.close()
        raise DeviceError(f"{profile.name}: {profile.host}:{profile.port} did not answer within "
                          f"{timeout_s} s; check the address and the network") from None
    except paramiko.SSHException as exc:
        client.close()
        if "known_hosts" in str(exc):
            raise DeviceError(
                f"{profile.name}: host key of {profile.host}:{profile.port} is unknown; add it "
                f"with `ssh-keyscan -p {profile.port} {profile.host} >> {known_hosts}` after "
                "checking its fingerprint, or set trust_on_first_use = true in [ssh]") from None
        if "banner" in str(exc) or "No existing session" in str(exc):
            raise _no_banner(profile, time.monotonic() - started) from None
        raise DeviceError(f"{profile.name}: SSH to {where} failed: {exc}") from None
    except OSError as exc:
        client.close()
        raise DeviceError(f"{profile.name}: cannot reach {profile.host}:{profile.port}: "
                          f"{exc.strerror or exc}") from None
    return SshSession(client, profile)


def _no_banner(profile, waited_s: float) -> DeviceError:
    """Something listens on the port but no SSH server greets: silent, or another protocol."""
    at = f"{profile.host}:{profile.port}"
    if waited_s >= profile.connect_timeout_s * 0.9:
        what = f"no SSH banner within {profile.connect_timeout_s:g} s from {at}"
    else:
        what = f"{at} answered, but not as an SSH server (no SSH banner; another service?)"
    return DeviceError(f"{profile.name}: {what}; check that the profile's port is the board's "
                       "sshd port and that sshd runs there")


class SshSession:
    """One authenticated connection: upload files, run quoted commands, clean up temp dirs."""

    def __init__(self, client, profile):
        self.client = client
        self.profile = profile
        self._sftp = None
        self._temp_dirs: list[str] = []

    @property
    def alive(self) -> bool:
        transport = self.client.get_transport()
        return bool(transport and transport.is_active())

    def put(self, local_path, remote_path: str) -> None:
        import paramiko

        try:
            if self._sftp is None:
                self._sftp = self.client.open_sftp()
            self._sftp.put(str(local_path), remote_path)
        except (OSError, EOFError, paramiko.SSHException) as exc:   # a board that went away
            raise DeviceError(f"{self.profile.name}: upload of {local_path} to {remote_path} "
                              f"failed: {exc}") from None

    def open_channel(self, argv):
        """Start a command and return its channel (stdin/stdout stay open: the runner)."""
        channel = self.client.get_transport().open_session(timeout=self.profile.connect_timeout_s)
        channel.exec_command(quote_argv(argv))
        return channel

    def run(self, argv, stdin: bytes | None = None, timeout_s: float | None = None):
        """Run argv (each element quoted) and return (rc, stdout, stderr) as bytes."""
        timeout_s = self.profile.run_timeout_s if timeout_s is None else timeout_s
        channel = self.open_channel(argv)
        if stdin:
            channel.sendall(stdin)
        channel.shutdown_write()
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout_s
        while True:
            if channel.recv_ready():
                out += channel.recv(65536)
            elif channel.recv_stderr_ready():
                err += channel.recv_stderr(65536)
            elif channel.exit_status_ready():
                break
            elif time.monotonic() > deadline:
                channel.close()
                raise DeviceError(f"{self.profile.name}: `{quote_argv(argv)[:80]}` did not "
                                  f"finish within {timeout_s} s on the board")
            elif channel.closed or not self.alive:
                raise DeviceError(f"{self.profile.name}: connection to the board was lost "
                                  f"while running `{quote_argv(argv)[:80]}`")
            else:
                time.sleep(POLL_S)
        return channel.recv_exit_status(), bytes(out), bytes(err)

    def mkdtemp(self) -> str:
        """A fresh directory under the profile's workdir, removed by close()."""
        workdir = self.profile.workdir
        rc, out, err = self.run(["sh", "-c", 'mkdir -p "$1" && mktemp -d "$1/edgeprune.XXXXXX"',
                                 "sh", workdir], timeout_s=self.profile.connect_timeout_s)
        if rc != 0:
            raise DeviceError(f"{self.profile.name}: cannot create a temp dir under {workdir} on "
                              f"the board: {err.decode(errors='replace').strip()}; set [ssh] "
                              "workdir to a writable folder")
        path = out.decode().strip()
        self._temp_dirs.append(path)
        return path

    def close(self) -> None:
        try:
            if self._temp_dirs and self.alive:
                self.run(["rm", "-rf", "--", *self._temp_dirs],
                         timeout_s=self.profile.connect_timeout_s)
                self._temp_dirs.clear()
        except DeviceError as exc:
            status(f"{self.profile.name}: could not remove remote temp dirs: {exc}")
        finally:
            if self._sftp is not None:
                self._sftp.close()
            self.client.close()
