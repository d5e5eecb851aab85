"""Board pool benchmark: wall time of measuring one generation on one board, then on two.

    python -m bench.board_pool            # 12 models (a default population), 3 rounds
    python -m bench.board_pool --smoke    # 4 models, 1 round (seconds once the board is built)

Two emulated aarch64 boards (`edgeprune board emulate --name`, one rootfs, two sshd ports)
measure the same generation of distinct models; each round opens fresh pools of one board and
of both (no cache), alternating which goes first. The two-board time includes the pool's
level check (the first model measured on both boards). Emulated boards share this host's
cores, so the ratio says how well the pool overlaps its boards, not what real boards gain
(they do not compete for one CPU); needs qemu-user-static, debootstrap and sshd, as root.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import work_dir, write_result

NAMES = ("bench-pool-a", "bench-pool-b")
INPUT_SHAPE = (1, 3, 32, 32)


def _time_pool(profile, models) -> float:
    from pipeline.devices import open_device

    start = time.perf_counter()
    with open_device(profile) as device:
        ms = device.measure(models, INPUT_SHAPE)
    assert all(m.stats.p50_ms > 0 for m in ms)
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    n_models, rounds = (4, 1) if args.smoke else (args.models, args.rounds)

    from pipeline import board
    from pipeline.board.profile import write_pool_profile
    from pipeline.board.sshd import free_port
    from pipeline.devices import load_profile
    from pipeline.devices.testing_models import make_conv_onnx

    folder = Path(os.environ.get("EDGEPRUNE_BOARD_DIR")
                  or Path(tempfile.gettempdir()) / f"edgeprune-board-{os.getuid()}")
    work = work_dir(args.smoke, "board_pool")
    models = [make_conv_onnx(work / f"m{w}.onnx", widths=(w, 2 * w), input_shape=INPUT_SHAPE)
              for w in range(8, 8 + 4 * n_models, 4)]
    for name in NAMES:
        board.emulate(folder, port=free_port(), name=name, verify=False)
    try:
        one = load_profile(write_pool_profile(folder, list(NAMES[:1]), work, "bench-one"))
        two = load_profile(write_pool_profile(folder, list(NAMES), work, "bench-two"))
        times = {"one": [], "two": []}
        for r in range(rounds):
            order = ("one", "two") if r % 2 == 0 else ("two", "one")
            for key in order:
                times[key].append(_time_pool(one if key == "one" else two, models))
    finally:
        for name in NAMES:
            board.stop(folder, name)
    one_s, two_s = statistics.median(times["one"]), statistics.median(times["two"])
    result = {"models": n_models, "rounds": rounds, "one_board_s": times["one"],
              "two_boards_s": times["two"], "one_board_median_s": one_s,
              "two_boards_median_s": two_s, "ratio": two_s / one_s, "emulated": True}
    write_result("board_pool", args.smoke, result, config={"models": n_models, "rounds": rounds,
                 "input_shape": list(INPUT_SHAPE)}, seed=0, devices=[])
    load = os.getloadavg()[0]
    print(f"| generation of {n_models} models | 1 board {one_s:.1f} s | 2 boards {two_s:.1f} s "
          f"| ratio {two_s / one_s:.2f} | load {load:.1f} on {os.cpu_count()} cores |")
    return result


if __name__ == "__main__":
    main()
