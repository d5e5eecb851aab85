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
    assert set(runs) == set(MODES)
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
    for r in runs.values():
        assert 0 <= r["hypervolume"] <= 1 and r["front"]
        assert all(0 < p["latency_ratio"] for p in r["front"])
    rows = smoke_result["summary"][model]["host-ort"]
    assert rows["measure-all"]["fewer_measurements_than_all"] == 1.0
    assert rows["predicted"]["fewer_measurements_than_all"] > 1.0


def test_its_readme_section_has_a_row_per_mode(smoke_result):
    from bench.readme_seeds import screened_section

    rows = [line for line in screened_section(smoke_result) if line.startswith("| resnet20-tiny")]
    assert [r.split(" | ")[2] for r in rows] == ["measure-all", "screened", "predicted",
                                                 "predicted-stored"]
