"""The standalone runner: its timing loop, and the real script over its JSON-lines protocol."""
import json
import subprocess
import sys

import numpy as np
import pytest

from pipeline.devices import runner
from pipeline.devices.links import RUNNER_PATH
from tests.devices.conftest import SHAPE


class FakeClock:
    def __init__(self, step_s):
        self.now, self.step_s = 0.0, step_s

    def __call__(self):
        self.now += self.step_s
        return self.now


def test_timed_loop_runs_exactly_min_runs_when_time_is_reached():
    calls = []
    samples = runner.timed_loop(lambda: calls.append(1), min_runs=7, min_time_s=0.0,
                                clock=FakeClock(0.001))
    assert len(samples) == len(calls) == 7
    assert samples == pytest.approx([1.0] * 7)  # each run is one clock step: 1 ms


def test_timed_loop_keeps_running_until_min_time():
    clock = FakeClock(0.0)  # time moves only inside a run, by a power of two (exact floats)

    def run_once():
        clock.now += 1 / 1024

    samples = runner.timed_loop(run_once, min_runs=3, min_time_s=100 / 1024, clock=clock)
    assert len(samples) == 100  # the first run that reaches the minimum time is the last


def test_timed_loop_zero_runs_zero_time_runs_nothing():
    assert runner.timed_loop(lambda: None, 0, 0.0) == []


def test_quantised_input_uses_scale_and_zero_point():
    rng = np.random.default_rng(0)
    x = runner._random_input(np, rng, [1, 3, 4, 4], np.int8, quant=(0.05, -3))
    assert x.dtype == np.int8 and x.shape == (1, 3, 4, 4)
    # standard normal / 0.05 spans about +-60 around the zero point -3: not all saturated.
    assert -128 <= x.min() < -3 < x.max() <= 127 and len(np.unique(x)) > 20


def _talk(requests, *args):
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    proc = subprocess.run([sys.executable, str(RUNNER_PATH), *args], input=lines,
                          capture_output=True, text=True, timeout=60)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_runner_script_counts_warmup_and_timed_runs_separately(onnx_model):
    request = {"op": "measure", "path": str(onnx_model), "input_shape": list(SHAPE),
               "threads": 1, "warmup_runs": 3, "warmup_min_s": 0, "runs": 5, "min_time_s": 0}
    facts, answer, bad = _talk([{"op": "facts"}, request, {"op": "nope"}], "--cores", "-1")
    assert facts["ok"] and facts["facts"]["runtimes"]["onnxruntime"]
    assert answer["ok"], answer
    assert answer["warmup_runs_done"] == 3 and len(answer["samples_ms"]) == 5
    assert not bad["ok"] and bad["kind"] == "protocol"


def test_runner_reports_an_unavailable_core():
    [answer] = _talk([{"op": "facts"}], "--cores", "4096")
    assert not answer["ok"] and "core 4096 is not available" in answer["error"]


def test_runner_answers_a_broken_model_instead_of_dying(tmp_path):
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"not a flatbuffer at all")
    request = {"op": "measure", "path": str(bad), "input_shape": list(SHAPE), "warmup_runs": 1,
               "warmup_min_s": 0, "runs": 1, "min_time_s": 0}
    answer, facts = _talk([request, {"op": "facts"}])
    assert not answer["ok"] and answer["kind"] == "model" and "broken.tflite" in answer["error"]
    assert facts["ok"]  # still serving after the failure
