"""`edgeprune run` on a pool of two emulated aarch64 boards; one is switched off after the
first generation, and the run completes with every evaluation measured. Minutes (emulation).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.board.conftest import edgeprune, require_board_host

pytestmark = [pytest.mark.slow, pytest.mark.ssh]

NAMES = ("run-pool-a", "run-pool-b")
BUDGET = ["model.name=resnet20-tiny", "train.epochs=1", "search.population=4",
          "search.generations=2", "search.round_to=2", "search.sensitivity=false",
          "search.supernet_epochs=1",
          "search.refine_per_generation=0", "recover.epochs=1", "recover.max_candidates=1",
          "winners=1", "export.formats=onnx", "export.int8=false"]


def test_a_board_switched_off_mid_search_loses_no_evaluation(tmp_path):
    from pipeline import board
    from pipeline.board.profile import write_pool_profile
    from pipeline.board.sshd import free_port

    require_board_host()
    folder = Path(os.environ.get("EDGEPRUNE_BOARD_DIR")
                  or Path(tempfile.gettempdir()) / f"edgeprune-board-{os.getuid()}")
    env = dict(os.environ, EDGEPRUNE_NO_PROGRESS="1", EDGEPRUNE_CACHE=str(tmp_path / "cache"))
    for name in NAMES:
        edgeprune("board", "emulate", "--dir", str(folder), "--name", name, "--port",
                  str(free_port()), "--no-install-profile", env=env)
    try:
        profile = write_pool_profile(folder, list(NAMES), tmp_path)
        profile.write_text(profile.read_text().replace("[measure]\n", "[measure]\nmax_retries = 1\n"))
        out = tmp_path / "run"
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--device",
                                 str(profile), "--out", str(out), *BUDGET], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 900
        while not (out / "evaluations.jsonl").is_file() and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        board.stop(folder, NAMES[1])   # generation 1 is written: switch the second board off
        stdout, stderr = proc.communicate(timeout=900)
    finally:
        for name in NAMES:
            board.stop(folder, name)
    assert proc.returncode == 0, stderr[-3000:]
    assert json.loads((out / "status.json").read_text())["complete"] is True
    evals = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()
             if line]
    assert {0, 1} <= {e["generation"] for e in evals}
    assert all(e["latency_ms"] and e["latency_ms"]["p50"] > 0 for e in evals)
    assert "set aside" in stderr, stderr[-3000:]
    print("\n".join(line for line in stderr.splitlines() if "set aside" in line or "gen " in line))
    # the board was lost during the search (generation 2), not only when the winners' stage
    # opened the pool again
    assert stderr.index("set aside") < stderr.index("gen 2/2"), stderr[-3000:]
    assert "2 of 2 boards at the pool's level" in stderr   # both measured before the stop
