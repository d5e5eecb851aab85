"""Evaluator.measure_again on the real host-ort device: an audit measured too slow is measured
once more and the faster p50 kept (a burst only slows a measurement down)."""
from helpers.real_evaluator import tiny_evaluator


def test_measured_again_keeps_the_faster_of_the_two(tmp_path):
    with tiny_evaluator("host-ort", tmp_path) as (evaluator, space):
        burst, quiet = evaluator.evaluate([space.uniform(k) for k in (0.8, 0.5)], generation=0)
        first = {ev.key: evaluator.files[ev.key].stat().st_mtime_ns for ev in (burst, quiet)}
        burst.latency_ms = {**burst.latency_ms, "p50": 1e3}   # as if timed in a burst
        quiet.latency_ms = {**quiet.latency_ms, "p50": 1e-6}  # faster than any re-measurement
        before = evaluator.counters.measured
        evaluator.measure_again([burst, quiet])
        # the files measured the first time, not exported again
        assert {k: evaluator.files[k].stat().st_mtime_ns for k in first} == first
        # one whose file is gone (a resumed run) is exported again
        evaluator.files[quiet.key].unlink()
        evaluator.measure_again([quiet])
        assert evaluator.files[quiet.key].is_file()
    assert evaluator.counters.measured == before + 3
    assert 0 < burst.latency_ms["p50"] < 1e3 and burst.latency_ms["n"] > 0
    assert quiet.latency_ms["p50"] == 1e-6
