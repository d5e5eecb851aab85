"""`edgeprune board emulate|stop|status`: an emulated aarch64 board on 127.0.0.1 over SSH."""
from __future__ import annotations

from pathlib import Path

EMULATION_NOTE = ("note: its latencies are EMULATION times (hundreds of times a real board's); "
                  "compare them only with each other")


def register(sub):
    p = sub.add_parser("board", help="emulated aarch64 board over SSH (qemu-user)",
                       description="An aarch64 Debian board emulated by qemu-user, reached "
                       "through a real sshd on 127.0.0.1: proves the ARM runtimes run our files "
                       "and tests the SSH path end to end. " + EMULATION_NOTE)
    actions = p.add_subparsers(dest="board_command", metavar="ACTION", required=True)
    dir_help = "board folder (default: $EDGEPRUNE_BOARD_DIR, else <cache>/board)"

    e = actions.add_parser("emulate", help="build once (cached), start sshd, write the profile")
    e.add_argument("--dir", help=dir_help)
    e.add_argument("--port", type=int, help="loopback port for sshd (default 2222)")
    name_help = ("a further board on the same rootfs, with its own sshd, port and profile "
                 "NAME (several make a pool: list their ports in one profile's [ssh] hosts)")
    e.add_argument("--name", help=name_help)
    e.add_argument("--no-install-profile", action="store_true",
                   help="write the profile only into the board folder, not the per-user "
                   "profiles folder (<cache>/profiles)")
    e.set_defaults(func=_emulate)

    s = actions.add_parser("stop", help="stop the board's sshd")
    s.add_argument("--dir", help=dir_help)
    s.add_argument("--name", help="the named board to stop (default: the folder's own)")
    s.set_defaults(func=_stop)

    t = actions.add_parser("status", help="built? running? on which port?")
    t.add_argument("--dir", help=dir_help)
    t.add_argument("--name", help="a named board (default: the folder's own)")
    t.add_argument("--json", action="store_true", help="print the status as JSON")
    t.set_defaults(func=_status)


def _size(n_bytes) -> str:
    return f"{n_bytes / 2**20:.0f} MiB" if n_bytes else "?"


def _emulate(args) -> int:
    from pipeline import board, paths
    from pipeline.board import rootfs
    from pipeline.errors import UserError

    if args.port is not None and not 1024 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is out of range; use 1024-65535")
    folder = board.board_dir(args.dir)
    install_to = None if args.no_install_profile else paths.user_profiles_dir()
    info = board.emulate(folder, port=args.port, install_profile_to=install_to, name=args.name)
    name = (args.name or "qemu-arm64") if install_to else info.profile
    print(f"board up: {info.machine} at 127.0.0.1:{info.port} (sshd pid {info.pid})")
    print(f"  folder:  {info.folder} ({_size(info.disk_bytes)} rootfs, built in "
          f"{info.build_s} s)")
    print(f"  profile: {info.profile}")
    print(f"  cpu:     qemu -cpu {rootfs.EMULATED_CPU} (not qemu's default `max`, whose SME "
          "kernels gave wrong int8 answers)")
    print(f"  try:     edgeprune devices check {name}")
    print(f"           edgeprune profile --device {name} MODEL.onnx")
    print(f"  stop:    edgeprune board stop" + (f" --dir {folder}" if args.dir else "")
          + (f" --name {args.name}" if args.name else ""))
    print(EMULATION_NOTE)
    return 0


def _stop(args) -> int:
    from pipeline import board

    pid = board.stop(board.board_dir(args.dir), args.name)
    print(f"board stopped (sshd pid {pid})" if pid else "board was not running")
    return 0


def _status(args) -> int:
    import json

    from pipeline import board
    from pipeline.board.lifecycle import info_dict

    info = board.status(board.board_dir(args.dir), args.name)
    if args.json:
        print(json.dumps(info_dict(info), indent=1))
        return 0
    state = f"running on 127.0.0.1:{info.port} (pid {info.pid})" if info.running else "stopped"
    built = f"built ({_size(info.disk_bytes)})" if info.built else "not built"
    print(f"board {Path(info.folder)}: {built}, {state}")
    if info.profile:
        print(f"  profile: {info.profile}")
    return 0
