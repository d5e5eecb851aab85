"""bench.screened_search in its smoke mode: three real searches on host-ort with fresh caches.
Smoke figures mean nothing; the counts and the shape of the result are checked."""
import json

import pytest

from helpers.bench_results import results_in


@pytest.fixture(scope="module")
def smoke_result(tmp_path_factory):
    from bench import screened_search

    with results_in(tmp_path_factory.mktemp("bench")) as folder:
        assert screened_search.main(["--smoke"]) == 0
        yield json.loads((folder / "screened_search.json").read_text())


def test_each_mode_counts_its_real_measurements(smoke_result):
    from bench.screened_search import MODES, SMOKE

    assert smoke_result["smoke"] is True
    (model,) = SMOKE["models"]
    runs = smoke_result["cells"][model]["host-ort"]["0"]
    assert set(runs) == {*MODES, "repeatability"}
    # Measuring everything times each architecture it evaluated (and the baseline), once.
    assert runs["measure-all"]["measurements"] == runs["measure-all"]["evaluated"]
    assert runs["measure-all"]["predicted"] == 0
    # With a predictor fitted beforehand, architectures are priced, not all timed. (On a
    # fresh cache the smoke budget is too small to promise that: the predictor needs 8
    # measurements before it fits, a third of the smoke search.)
    assert runs["predicted"]["measurements"] <= runs["predicted"]["evaluated"]
    assert runs["predicted-stored"]["predicted"] > 0
    assert runs["predicted-stored"]["measurements"] < runs["predicted-stored"]["evaluated"]
    assert runs["predicted-stored"]["predicted"] >= runs["predicted"]["predicted"]
    (fit,) = smoke_result["predictor_fit"].values()
    assert fit["measurements"] == SMOKE["fit_n"]
    modes = [runs[m] for m in MODES]
    for r in modes:
        assert 0 <= r["hypervolume"] <= 1 and r["front"]
        assert all(0 < p["latency_ratio"] for p in r["front"])
    rows = smoke_result["summary"][model]["host-ort"]
    assert rows["measure-all"]["fewer_measurements_than_all"] == 1.0
    # measure-all's own count varies in a search this small (it evaluated 10 of 12 once, a
    # duplicate offspring), so the ratio is checked where the smoke run promises it
    assert rows["predicted-stored"]["fewer_measurements_than_all"] > 1.0


def test_every_front_is_measured_again_together(smoke_result):
    from bench.screened_search import MODES, SMOKE

    (model,) = SMOKE["models"]
    runs = smoke_result["cells"][model]["host-ort"]["0"]
    members = {}
    for mode in MODES:
        again = runs[mode]["remeasured"]
        assert 0 <= again["hypervolume"] <= 1
        assert len(again["front"]) == len(runs[mode]["front"]) == len(runs[mode]["members"])
        # one latency per architecture, whichever fronts it is on
        for m, p in zip(runs[mode]["members"], again["front"]):
            key = json.dumps(m["channels"], sort_keys=True)
            assert members.setdefault(key, p["latency_ratio"]) == p["latency_ratio"]
    assert runs["repeatability"]["architectures"] == len(members)
    assert runs["repeatability"]["passes"] == SMOKE["rounds"]
    assert 0 <= runs["repeatability"]["within_10pct"] <= 1
    assert "remeasured" in smoke_result["summary"][model]["host-ort"]["predicted-stored"]


def test_its_readme_section_has_a_row_per_mode(smoke_result):
    from bench.readme_seeds import screened_section

    rows = [line for line in screened_section(smoke_result) if line.startswith("| resnet20-tiny")]
    assert [r.split(" | ")[2] for r in rows] == ["measure-all", "screened", "predicted",
                                                 "predicted-stored"]


def test_a_run_of_some_cells_keeps_the_others_with_their_commit(tmp_path):
    """`--models` / `--profiles` rerun those cells; the last result's other cells stay, each
    with the commit it was measured at, and its row in bench/README.md says that commit."""
    from bench.readme_seeds import screened_section
    from bench.screened_search import kept_cells, summarise

    run = {"measurements": 10, "evaluated": 10, "predicted": 0, "hypervolume": 0.5,
           "fastest_within_gap": 0.3, "front": []}
    seeds = {"0": {mode: dict(run) for mode in ("measure-all", "screened", "predicted",
                                                "predicted-stored")}}
    last = {"git_commit": "a" * 40, "finished_utc": "x",
            "config": {"population": 12, "generations": 6},
            "cells": {"resnet20": {"host-ort": seeds, "host-tflite": seeds},
                      "mobilenet": {"host-ort": seeds}},
            "predictor_fit": {"resnet20 / host-ort": {"measurements": 200, "seconds": 9},
                              "resnet20 / host-tflite": {"measurements": 200, "seconds": 9}}}
    with results_in(tmp_path) as folder:
        folder.mkdir(parents=True)
        (folder / "screened_search.json").write_text(json.dumps(last))
        cells, commits, fits = kept_cells(True, ["resnet20"], ["host-tflite"])
        assert kept_cells(True, None, None) == ({}, {}, {})   # the whole grid: nothing kept
    assert set(commits) == {"resnet20 / host-ort", "mobilenet / host-ort"}
    assert cells == {"resnet20": {"host-ort": seeds}, "mobilenet": {"host-ort": seeds}}
    assert set(fits) == {"resnet20 / host-ort"}
    commits["resnet20 / host-tflite"] = {"git_commit": "b" * 40, "population": 4,
                                         "generations": 2}
    cells["resnet20"]["host-tflite"] = seeds
    section = screened_section({"config": {"seeds": [0], "population": 4, "generations": 2},
                                "summary": summarise(cells), "cell_commits": commits,
                                "git_commit": "b" * 40, "wall_s": 60, "predictor_fit": fits})
    rows = [line for line in section if line.startswith("| resnet20 |")]
    assert sum("`aaaaaaaaaa`" in r for r in rows) == 4   # host-ort's modes: the old commit
    assert sum("`bbbbbbbbbb`" in r for r in rows) == 4
    # each row says the search size it ran with: the kept cell its own run's, not this one's
    assert all(("| 12 x 6 |" in r) == ("`aaaaaaaaaa`" in r) for r in rows)
    assert sum("| 4 x 2 |" in r for r in rows) == 4


def test_a_run_of_some_modes_summarises_those_and_needs_measure_all():
    """`--modes measure-all predicted-stored`: the two rows, each judged against measure-all."""
    from bench.screened_search import run, summarise

    def one(measurements, hv, again=None):
        return {"measurements": measurements, "evaluated": 96, "predicted": 0,
                "hypervolume": hv, "fastest_within_gap": 0.3, "front": [],
                **({"remeasured": {"hypervolume": again, "fastest_within_gap": 0.2}}
                   if again else {})}

    seeds = {str(s): {"measure-all": one(96, 0.8, 0.5),
                      "predicted-stored": one(16 + s, 0.82, 0.5 * (1 + s / 10))}
             for s in range(3)}
    rows = summarise({"resnet20": {"host-ort": seeds}})["resnet20"]["host-ort"]
    assert list(rows) == ["measure-all", "predicted-stored"]
    assert rows["predicted-stored"]["fewer_measurements_than_all"] == 96 / 17
    # judged again on the fronts measured together: 1.0, 1.1, 1.2 of measure-all's
    assert rows["predicted-stored"]["remeasured"]["hypervolume_vs_all"] == pytest.approx(1.1)
    del seeds["0"]["measure-all"]["remeasured"]   # a seed measured before it: no such row
    assert "remeasured" not in summarise({"r": {"p": seeds}})["r"]["p"]["predicted-stored"]
    with pytest.raises(SystemExit, match="must include measure-all"):
        run(True, modes=["predicted-stored"])


def test_the_modes_flag_names_only_known_modes():
    from bench.screened_search import main

    with pytest.raises(SystemExit) as exc:
        main(["--smoke", "--modes", "measure-everything"])
    assert exc.value.code == 2                     # argparse: invalid choice
    with pytest.raises(SystemExit, match="must include measure-all"):
        main(["--smoke", "--modes", "predicted-stored"])
