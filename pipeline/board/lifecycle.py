"""Start, stop and describe the emulated board: rootfs + Python wrapper + sshd + profile."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.board import profile, rootfs, sshd
from pipeline.errors import DeviceError, UserError

DEFAULT_PORT = 2222


def board_dir(path: str | os.PathLike | None = None) -> Path:
    """--dir, else $EDGEPRUNE_BOARD_DIR (CI keeps the build there), else <cache>/board."""
    if path is None:
        path = os.environ.get("EDGEPRUNE_BOARD_DIR")
    if path is None:
        from pipeline.paths import cache_dir
        path = cache_dir() / "board"
    folder = Path(path).expanduser().resolve()
    # sshd_config has no quoting for paths; the wrapper and profile embed this path too.
    if any(c.isspace() or c in "\"'\\" for c in str(folder)):
        raise UserError(f"board folder {folder} contains spaces or quotes; pass --dir with a "
                        "plain path")
    return folder


def instance_dir(board: Path, name: str | None = None) -> Path:
    """Where a board's sshd, keys and profile live: the folder itself, or boards/NAME in it.

    Named boards (`--name`) share the folder's rootfs (built once) and its SSH keys, so one
    key file and one known_hosts can reach them all, as in a pool of real boards.
    """
    if not name:
        return board
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", name):
        raise UserError(f"board name {name!r}: use lower-case letters, digits and '-'")
    return board / "boards" / name


def _share_keys(board: Path, inst: Path) -> None:
    sshd.ensure_keys(board)
    sshd.ssh_dir(inst).mkdir(parents=True, exist_ok=True)
    for key in ("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "id_ed25519",
                "id_ed25519.pub"):
        target = sshd.ssh_dir(inst) / key
        if not target.is_file():
            shutil.copy2(sshd.ssh_dir(board) / key, target)


@dataclass(frozen=True)
class BoardInfo:
    folder: str
    built: bool
    running: bool
    pid: int | None = None
    port: int | None = None
    profile: str | None = None
    build_s: float | None = None
    disk_bytes: int | None = None
    machine: str | None = None  # what the board's Python reports (aarch64), after emulate


def status(board: Path, name: str | None = None) -> BoardInfo:
    inst = instance_dir(board, name)
    state = _read_state(inst)
    built = rootfs.is_built(board / "rootfs")
    pid = sshd.running_pid(inst)
    return BoardInfo(folder=str(inst), built=built, running=pid is not None, pid=pid,
                     port=state.get("port") if pid else None,
                     profile=state.get("profile"), build_s=state.get("build_s"),
                     disk_bytes=state.get("disk_bytes"))


def emulate(board: Path, port: int | None = None, install_profile_to: Path | None = None,
            verify: bool = True, name: str | None = None) -> BoardInfo:
    """Build once, (re)start sshd, write the profile, and check the board answers in aarch64.

    name: a second (third...) board on the same rootfs, with its own sshd and port and a
    profile of that name; without it, the folder's own board and profile `qemu-arm64`.
    """
    inst = instance_dir(board, name)
    board.mkdir(parents=True, exist_ok=True)
    facts = rootfs.build(board)
    rootfs.write_python_wrapper(board)
    sshd.stop(inst)  # a restart picks up a new port and a rebuilt wrapper
    port = DEFAULT_PORT if port is None else port
    if name:
        _share_keys(board, inst)
    sshd.ensure_keys(inst)
    sshd.write_known_hosts(inst, port)
    sshd.write_config(inst, port)
    pid = sshd.start(inst, port)
    written = profile.write_profiles(inst, port, install_profile_to, name=name,
                                     python=board / "bin" / "python3")
    state = {**facts, "port": port, "profile": str(written[-1]),
             "emulated_cpu": rootfs.EMULATED_CPU}
    (inst / "board.json").write_text(json.dumps(state, indent=1) + "\n")
    machine = _remote_machine(written[0]) if verify else None
    return BoardInfo(folder=str(inst), built=True, running=True, pid=pid, port=port,
                     profile=str(written[-1]), build_s=facts.get("build_s"),
                     disk_bytes=facts.get("disk_bytes"), machine=machine)


def stop(board: Path, name: str | None = None) -> int | None:
    return sshd.stop(instance_dir(board, name))


def _read_state(board: Path) -> dict:
    try:
        return json.loads((board / "board.json").read_text())
    except (OSError, ValueError):
        return {}


def _remote_machine(profile_path: Path) -> str:
    """Log in through the profile, as the device layer will, and ask the board's Python."""
    from pipeline.devices import load_profile
    from pipeline.devices.ssh import connect

    prof = load_profile(profile_path)
    session = connect(prof)
    try:
        code = "import platform, sys; print(platform.machine(), platform.python_version())"
        rc, out, err = session.run([prof.python, "-c", code], timeout_s=120)
    finally:
        session.close()
    if rc != 0:
        raise DeviceError(f"the board's Python failed ({err.decode(errors='replace')[-300:]}); "
                          f"try it by hand: {shlex.quote(prof.python)} -V")
    return out.decode().strip()


def info_dict(info: BoardInfo) -> dict:
    return asdict(info)
