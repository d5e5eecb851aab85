"""An emulated aarch64 board on 127.0.0.1, reached over SSH exactly like a real one.

    rootfs/          Debian bookworm arm64 + Python 3.11 + aarch64 onnxruntime/LiteRT
                     (built once by setup_board.sh, then reused)
    bin/python3      the board's Python: qemu-aarch64-static -L rootfs rootfs/usr/bin/python3
    ssh/             host key, user key, known_hosts, sshd_config, pid file, log
    qemu-arm64.toml  the device profile for this board (paths relative to this folder)

Its latencies are emulation times, hundreds of times a real board's: they rank models
against each other and prove the aarch64 runtimes run our files, nothing more.
"""
from pipeline.board.lifecycle import BoardInfo, board_dir, emulate, status, stop

__all__ = ["BoardInfo", "board_dir", "emulate", "status", "stop"]
