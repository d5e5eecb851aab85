"""Never lose work: a run killed after a generation resumes to the same Pareto front."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pipeline.cli import main

pytestmark = pytest.mark.slow


def _front(run_dir):
    pareto = json.loads((run_dir / "pareto.json").read_text())
    return sorted((e["key"], round(e["accuracy"], 6), e["latency_ms"]["p50"])
                  for e in pareto["front"])


def _default_sigint():
    # A shell without job control starts background commands with SIGINT ignored, and the
    # child would inherit that (Python then installs no KeyboardInterrupt handler): give the
    # run the disposition it has in a terminal, where a user presses Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args, env):
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _wait_for_generation(state_file, proc, timeout_s=240):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if state_file.is_file() and json.loads(state_file.read_text())["generation_done"] >= 0:
            return
        if proc.poll() is not None:
            pytest.fail(f"run ended before its first generation: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("no generation finished in time")


@pytest.fixture
def resume_args(tiny_args):
    # No learned latency predictor: it is stored in the shared cache by the first run, so the
    # second would start from it and screen differently (resume itself keeps its starting
    # samples in the run folder).
    return [a for a in tiny_args if not a.startswith("search.generations")] + [
        "search.generations=4", "export.formats=onnx", "search.predictor=false"]


def test_killed_run_resumes_to_the_same_front(tmp_path, resume_args):
    env = {**os.environ, "EDGEPRUNE_CACHE": str(tmp_path / "cache"), "EDGEPRUNE_NO_PROGRESS": "1"}
    straight = tmp_path / "straight"
    # The uninterrupted reference run also fills the latency cache both runs then share.
    ref = subprocess.run([sys.executable, "-m", "pipeline", "run", "--out", str(straight),
                          *resume_args], env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]

    killed = tmp_path / "killed"
    proc = _start(["--out", str(killed), *resume_args], env)
    _wait_for_generation(killed / "search_state.json", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "pareto.json").exists()
    assert json.loads((killed / "status.json").read_text())["complete"] is False

    resumed = subprocess.run([sys.executable, "-m", "pipeline", "run", "--resume", str(killed)],
                             env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "replayed" in resumed.stderr
    assert _front(killed) == _front(straight)
    assert json.loads((killed / "status.json").read_text())["complete"] is True


def test_ctrl_c_saves_state_and_says_how_to_resume(tmp_path, resume_args):
    env = {**os.environ, "EDGEPRUNE_CACHE": str(tmp_path / "cache"), "EDGEPRUNE_NO_PROGRESS": "1"}
    run_dir = tmp_path / "run"
    proc = _start(["--out", str(run_dir), *resume_args], env)
    _wait_for_generation(run_dir / "search_state.json", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert f"edgeprune run --resume {run_dir}" in err and "Traceback" not in err
    assert (run_dir / "evaluations.jsonl").read_text().strip()


def test_resume_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_kill_9_leaving_a_torn_line_resumes_then_says_already_complete(tmp_path, resume_args):
    env = {**os.environ, "EDGEPRUNE_CACHE": str(tmp_path / "cache"), "EDGEPRUNE_NO_PROGRESS": "1"}
    run_dir = tmp_path / "run"
    proc = _start(["--out", str(run_dir), *resume_args], env)
    _wait_for_generation(run_dir / "search_state.json", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # evaluations.jsonl is replaced atomically, so kill -9 alone cannot tear it; a writer killed
    # mid-line (an appending one, a full disk) leaves its last record cut off, as here.
    path = run_dir / "evaluations.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2])
    resume = [sys.executable, "-m", "pipeline", "run", "--resume", str(run_dir)]
    resumed = subprocess.run(resume, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "dropped the torn last line" in resumed.stderr and "Traceback" not in resumed.stderr
    assert json.loads((run_dir / "status.json").read_text())["complete"] is True

    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    again = subprocess.run(resume, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "already complete" in again.stdout
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
