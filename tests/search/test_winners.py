"""The finish's ladder: bisected for the 1-point line (search/winners.bisect_ladder)."""
import pytest

from pipeline.search.winners import bisect_ladder


def run(count, line, budget=3, start=None):
    """Rungs 0..line-1 fail (too deep), line.. pass; returns (found, rungs tried)."""
    tried = []

    def passes(i):
        tried.append(i)
        return i >= line

    return bisect_ladder(count, budget, passes, start), tried


@pytest.mark.parametrize("line", range(8))
def test_three_tries_find_the_line_among_seven_rungs(line):
    found, tried = run(7, line)   # line 7: no rung passes
    assert found == (line if line < 7 else None)
    assert len(tried) <= 3 and len(set(tried)) == len(tried)


def test_fastest_first_would_spend_the_budget_on_the_deep_end():
    # Line at rung 9 of 12: bisection ends within a rung or two of it; the old rule
    # (rungs 0, 1, 2) found nothing.
    found, tried = run(12, 9)
    assert found is not None and 9 <= found <= 11 and tried[0] == 5


@pytest.mark.parametrize("start, want, found", [(8, [8, 7, 5], 7), (5, [5, 6, 8], 8),
                                                (7, [7, 6], 7), (19, [19, 18, 16], 16)])
def test_a_start_near_the_line_is_tried_first_then_steps_away_from_it(start, want, found):
    assert run(20, 7, budget=3, start=start) == (found, want)


def test_nothing_passes_or_no_rungs():
    assert run(6, 99) == (None, [2, 4, 5])
    assert run(0, 0) == (None, [])
    assert run(5, 0, budget=0) == (None, [])


def test_the_finish_bisects_the_front_and_starts_where_the_outlook_expects(monkeypatch):
    """finish._pick_and_recover on a front of 12 whose recoveries pass from rung 9 up."""
    from types import SimpleNamespace

    import pipeline.finish as finish
    from pipeline.config import load_config
    from pipeline.search.outlook import RecoveryOutlook

    front = [SimpleNamespace(id=f"r{i}", key=f"r{i}", channels={"g": i + 1}, error_step="kd_short",
                             accuracy=0.90 + 0.005 * i, latency_objective=lambda i=i: 0.1 * (i + 1))
             for i in range(12)]
    recovered = []

    def fake_recover(shared, ev):
        recovered.append(ev.id)
        i = int(ev.id[1:])
        return finish.Recovered(ev, None, None, 0.99 if i >= 9 else 0.95)

    monkeypatch.setattr(finish, "_recover_task", fake_recover)
    cfg = load_config(overrides=["winners=1", "recover.max_candidates=3"])
    search = {"baseline": {"channels": {"g": 99}, "accuracy": 0.99}, "front": front}
    [(reason, rec)] = finish._pick_and_recover(cfg, None, search, None)
    assert (reason, recovered) == (finish.FASTEST, ["r5", "r8", "r10"]) and rec.ev.id == "r10"

    # Calibrated (estimate 0.945 recovers to 0.99): it starts at r9 and steps faster.
    outlook = RecoveryOutlook()
    for key, est, acc in [("a", 0.94, 0.95), ("b", 0.945, 0.99), ("c", 0.96, 0.995)]:
        outlook.add(key, "kd_short", est, acc)
    recovered.clear()
    [(reason, rec)] = finish._pick_and_recover(cfg, None, {**search, "outlook": outlook}, None)
    assert recovered == ["r9", "r8"] and rec.ev.id == "r9"
