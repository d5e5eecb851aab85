"""A board that goes down mid-search stops the run cleanly, state saved; --resume finishes it."""
import json
import os
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ssh]


def test_board_down_mid_search_saves_state_and_resume_completes(sshd, tmp_path, tiny_args):
    down = tmp_path / "board-is-down"
    python = tmp_path / "board-python"
    # The board's Python refuses to start while the flag exists: a board that rebooted badly.
    python.write_text(f'#!/bin/sh\n[ -e "{down}" ] && {{ echo "board down" >&2; exit 1; }}\n'
                      f'exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    profile = sshd.profile_toml(tmp_path / "flaky-board.toml", name="flaky-board",
                                 python=str(python),
                                 measure={"warmup_runs": 2, "runs": 10, "min_time_s": 0.0,
                                          "warmup_min_s": 0.0, "max_retries": 1,
                                          "cooldown_s": 0.1})
    env = {**os.environ, "EDGEPRUNE_CACHE": str(tmp_path / "cache"), "EDGEPRUNE_NO_PROGRESS": "1"}
    run_dir = tmp_path / "run"
    args = [a for a in tiny_args if not a.startswith(("search.generations", "device="))]
    cmd = [sys.executable, "-m", "pipeline", "run", "--out", str(run_dir), f"device={profile}",
           "search.generations=3", "export.formats=onnx", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    state = run_dir / "search_state.json"
    deadline = time.monotonic() + 300
    while not (state.is_file() and json.loads(state.read_text())["generation_done"] >= 0):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()[-2000:]
        time.sleep(0.05)
    down.write_text("down")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err[-2000:]
    assert f"edgeprune run --resume {run_dir}" in err and "Traceback" not in err
    assert json.loads((run_dir / "status.json").read_text())["complete"] is False
    saved = (run_dir / "evaluations.jsonl").read_text().splitlines()
    assert saved

    down.unlink()
    resumed = subprocess.run([sys.executable, "-m", "pipeline", "run", "--resume", str(run_dir)],
                             env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "replayed" in resumed.stderr
    assert json.loads((run_dir / "status.json").read_text())["complete"] is True
