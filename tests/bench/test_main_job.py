"""bench/main_job.py: the main job over seeds, with and without line probes."""
import json

import pytest

from bench import main_job


def entry(wall, gen, speedup, said_ms, search_ms, acc=0.985):
    winner = {"reason": "fastest-within-1pt", "id": f"g{gen - 1:03d}-i01", "generation": gen, "speedup_p50": speedup,
              "p50_ms": search_ms, "accuracy_test": acc, "baseline_accuracy_test": 0.99,
              "search_p50_ms": search_ms}
    return {"wall_s": wall, "winner": winner, "progress_off": said_ms / search_ms - 1,
            "progress_after_recovery": {"how": "recovered", "latency": said_ms}}


def test_summary_counts_later_winners_and_takes_medians_over_seeds():
    s = main_job.summarise([entry(300, 7, 8.0, 0.10, 0.10), entry(320, 1, 5.0, 0.15, 0.12),
                            entry(310, 4, 6.0, 0.10, 0.125)])
    assert s["runs"] == 3 and s["winner_after_first_generation"] == 2
    assert s["wall_s"] == {"median": 310, "min": 300, "max": 320}
    assert s["speedup_p50"]["median"] == 6.0
    assert s["progress_off"]["median"] == pytest.approx(0.2)
    assert s["progress_off"]["max"] == pytest.approx(0.25)
    assert s["accuracy_drop_test"]["median"] == pytest.approx(0.005)


def test_a_run_without_a_winner_is_counted_but_not_averaged():
    fallback = entry(150, 2, 9.0, 0.1, 0.1)
    fallback["winner"]["reason"] = "most-accurate-tried"
    s = main_job.summarise([{"wall_s": 100, "winner": None}, fallback,
                            entry(200, 3, 4.0, 0.2, 0.2)])
    assert (s["runs"], s["within_1pt"]) == (3, 1) and s["speedup_p50"]["max"] == 4.0
    assert s["progress_off"]["max"] == 0.0


@pytest.mark.slow
def test_smoke_runs_the_real_main_job_and_writes_its_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # results and work under bench/results/tmp of this folder
    path = main_job.run([0], [2, 0], smoke=True)
    r = json.loads(path.read_text())
    assert set(r["runs"]) == {"2", "0"}
    for p in ("2", "0"):   # a smoke run's 1-epoch recoveries may keep no file within 1 point
        e = r["runs"][p]["0"]
        assert e["wall_s"] > 0 and e["winner"]["speedup_p50"] > 0
        assert e["winner"]["reason"] in main_job.WINNER
    # With probes the progress line answers from a recovery made in this run.
    # The last progress line's answer is kept (None where the smoke's estimates left no
    # candidate within the gap).
    said = r["runs"]["2"]["0"]["progress_after_recovery"]
    assert said is None or (said["generation"] == 2 and said["latency"] > 0)
    text = "\n".join(main_job.section(r))
    assert "| 2 |" in text and "| 0 |" in text and "line_probes 2, seed 0" in text


def test_a_run_of_one_variant_keeps_the_others_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = []

    def fake_run_once(seed, probes, smoke):
        made.append((seed, probes))
        return entry(100 + probes, 2, 5.0 + probes, 0.1, 0.1)

    monkeypatch.setattr(main_job, "run_once", fake_run_once)
    main_job.run([0, 1], [4, 0], smoke=True)
    assert made == [(0, 4), (0, 0), (1, 4), (1, 0)]
    (tmp_path / "bench/results/tmp/smoke-work/main_job/runs.jsonl").unlink()   # run 4 again
    r = json.loads(main_job.run([0], [4], smoke=True).read_text())
    assert made[4:] == [(0, 4)]
    assert set(r["runs"]) == {"4", "0"} and set(r["runs"]["0"]) == {"0", "1"}
    assert set(r["variant_commits"]) == {"4", "0"}
    assert r["summary"]["0"]["speedup_p50"]["median"] == 5.0


def test_the_verdict_compares_probes_with_none_from_the_summary():
    on = main_job.summarise([entry(300, 7, 5.0, 0.1, 0.1), entry(300, 3, 6.0, 0.1, 0.1)])
    off = main_job.summarise([entry(300, 1, 7.0, 0.1, 0.1), entry(300, 2, 8.0, 0.1, 0.1)])
    (line,) = main_job.verdict({"4": on, "0": off})
    assert "5.50x against 7.50x without (lower" in line
    assert "2 of 2 with, 1 of 2 without" in line
    assert main_job.verdict({"4": on}) == []
