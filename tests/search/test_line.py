"""The line search (search/line.py) and the search's line probes (pipeline/line_probes.py)."""
from types import SimpleNamespace

import pytest

from pipeline.line_probes import LineProbes, probe_generations
from pipeline.search.line import LineSearch
from pipeline.search.outlook import describe, fastest_after_recovery


def ev(i, accuracy, step="kd_short"):
    """Rung i of a front: latency 0.1 * (i + 1), faster rungs first."""
    return SimpleNamespace(id=f"r{i}", key=f"r{i}", accuracy=accuracy, error_step=step,
                           latency_objective=lambda: 0.1 * (i + 1))


def front_of(count, top=0.955, step=0.005):
    return [ev(i, top - step * (count - 1 - i)) for i in range(count)]


def search(line, front, line_at, budget=3, start=None, fastest_first=False):
    """Rungs below `line_at` recover beyond the drop, the others within; returns the rungs
    tried, in order."""
    tried = []
    for _ in range(budget):
        e = line.next(front, None if start is None else f"r{start}", fastest_first)
        if e is None:
            break
        i = int(e.id[1:])
        tried.append(i)
        line.add(e, 0.99 if i >= line_at else 0.95)
    return tried


def new_line():
    return LineSearch(baseline_acc=0.99, max_drop=0.01, candidate_gap=0.15)


@pytest.mark.parametrize("line_at", range(8))
def test_three_tries_place_the_line_among_seven_rungs(line_at):
    line = new_line()
    tried = search(line, front_of(7), line_at)
    best = line.fastest_pass()
    assert (int(best[0].id[1:]) if best else None) == (line_at if line_at < 7 else None)
    assert len(tried) <= 3 and len(set(tried)) == len(tried)


def test_from_nothing_it_bisects_from_the_middle():
    line = new_line()
    assert search(line, front_of(12), 9) == [5, 8, 10]
    assert line.fastest_pass()[0].id == "r10"


@pytest.mark.parametrize("start, want", [(8, [8, 7, 5]), (5, [5, 6, 8]), (7, [7, 6]),
                                         (19, [19, 18, 16])])
def test_from_a_guess_it_steps_1_2_4_rungs_away_then_bisects(start, want):
    assert search(new_line(), front_of(20), 7, start=start) == want


def test_a_pass_at_the_fastest_candidate_opens_the_members_below_the_gap():
    # Estimates 0.60 .. 0.95: with the baseline at 0.99 and a gap of 0.15, only r5..r7 (0.85
    # and up) are candidates. r5 passes, so members down to 0.70 may be tried: r4 (1 rung
    # on) passes too, r2 (2 rungs on) fails, r3 passes; the line lies between r2 and r3.
    front = [ev(i, 0.60 + 0.05 * i) for i in range(8)]
    line = new_line()
    assert search(line, front, line_at=3, budget=5, fastest_first=True) == [5, 4, 2, 3]
    assert line.fastest_pass()[0].id == "r3"
    assert line.next(front) is None   # nothing left to try


def test_a_pass_that_left_the_front_still_bounds_the_line_and_can_win():
    line = new_line()
    gone = ev(3, 0.90)
    line.add(gone, 0.985)
    front = [ev(i, 0.93 + 0.005 * i) for i in (5, 6, 7)]   # all slower than the pass
    assert line.next(front) is None
    assert line.fastest_pass()[0] is gone


def test_a_failure_rules_out_only_what_it_dominates():
    # Seen on digits (seed 2): an early probe at 0.211 ms, estimate 0.922, failed by one
    # validation image; the front later held faster members estimated higher (0.19 ms at
    # 0.944). They are still worth a try; a faster member estimated lower is not.
    line = new_line()
    early = SimpleNamespace(id="early", key="early", accuracy=0.922, error_step="kd_short",
                            latency_objective=lambda: 0.211)
    line.add(early, 0.9778)
    passed = SimpleNamespace(id="pass", key="pass", accuracy=0.959, error_step="mapped",
                             latency_objective=lambda: 0.231)
    line.add(passed, 0.9815)
    later = [SimpleNamespace(id=i, key=i, accuracy=a, error_step="kd_short",
                             latency_objective=lambda t=t: t)
             for i, t, a in [("deep", 0.13, 0.90), ("fast", 0.19, 0.944), ("next", 0.198, 0.952)]]
    assert [e.id for e in line.region(later + [passed])] == ["fast", "next"]
    assert line.next(later + [passed]).id == "fast"


def test_the_progress_line_reports_this_runs_pass_unless_a_calibrated_map_names_faster():
    front = front_of(6)
    line = new_line()
    line.add(front[2], 0.985)
    line.add(front[0], 0.95)
    o = fastest_after_recovery(front, 0.99, 0.01, 0.15, None, line)
    assert (o.how, o.ev.id, o.expected, o.pairs) == ("recovered", "r2", 0.985, 2)
    assert describe(o, "ms") == ("after recovery 0.300 ms (r2, recovered 98.5%; 2 recovered "
                                 "in this run)")
    assert fastest_after_recovery(front, 0.99, 0.01, 0.15, None, new_line()).how == \
        "fastest candidate"
    failed = new_line()
    failed.add(front[0], 0.95)
    failed.add(front[3], 0.97)   # only failures: the candidate named is slower than them
    o = fastest_after_recovery(front, 0.99, 0.01, 0.15, None, failed)
    assert (o.how, o.ev.id) == ("fastest candidate", "r4")


def test_probes_run_after_their_generations_and_a_resume_replays_them(tmp_path, monkeypatch):
    import pipeline.finish as finish

    assert probe_generations(2, 8) == {3, 7}
    assert probe_generations(1, 8) == {7} and probe_generations(3, 2) == {0, 1}
    assert probe_generations(0, 8) == set()
    recovered = []

    def fake_recover(shared, e):
        recovered.append(e.id)
        return finish.Recovered(e, "model", None, 0.99 if int(e.id[1:]) >= 2 else 0.95)

    monkeypatch.setattr(finish, "_recover_task", fake_recover)
    executor = SimpleNamespace(map=lambda fn, items, shared=None: [fn(shared, i) for i in items])
    front = front_of(6)

    def run_probes():
        probes = LineProbes(new_line(), 2, 4, tmp_path, executor, shared=None)
        for generation in range(4):
            probes.after_generation(generation, front)
        return probes

    probes = run_probes()
    # After generations 2 and 4: the fastest candidate r0 fails, then one rung slower.
    assert recovered == ["r0", "r1"] and set(probes.recovered) == {"r0", "r1"}
    assert {k: acc for k, (_, acc) in probes.line.results.items()} == {"r0": 0.95, "r1": 0.95}
    again = run_probes()   # a resumed run: the stored results, no recovery
    assert recovered == ["r0", "r1"] and again.recovered == {}
    assert again.line.results.keys() == probes.line.results.keys()


def test_a_damaged_probe_file_costs_only_the_recoveries(tmp_path, capsys):
    (tmp_path / "line_probes.json").write_text("{torn")
    probes = LineProbes(new_line(), 2, 8, tmp_path, executor=None, shared=None)
    assert probes.stored == {} and "unreadable" in capsys.readouterr().err
