"""bench.predictor_accuracy in its smoke mode: it runs, fits and evaluates through the real
host-ort device and writes a complete result file with its scatter plot. Smoke figures mean
nothing (a dozen architectures): only shape and sanity are checked."""
import json

import pytest

from helpers.bench_results import results_in


@pytest.fixture(scope="module")
def smoke_result(tmp_path_factory):
    from bench import predictor_accuracy

    with results_in(tmp_path_factory.mktemp("bench")) as folder:
        assert predictor_accuracy.main(["--smoke"]) == 0
        yield folder


def test_predictor_accuracy_records_every_cell(smoke_result):
    from bench.predictor_accuracy import SMOKE

    result = json.loads((smoke_result / "predictor_accuracy.json").read_text())
    assert result["smoke"] is True and len(result["git_commit"]) >= 40
    assert all(d["runtimes"] for d in result["devices"])
    for model in SMOKE["models"]:
        for profile in SMOKE["profiles"]:
            cell = result["cells"][model][profile]
            assert cell["fit"]["samples"] == SMOKE["fit_n"]
            assert cell["fit"]["measured"] == SMOKE["fit_n"]   # fresh cache: all measured
            ev = cell["eval"]
            assert ev["n"] == SMOKE["eval_n"] == len(ev["points"])
            assert 0 <= ev["within_5pct"] <= ev["within_10pct"] <= 1
            assert ev["median_abs_rel"] <= ev["worst_abs_rel"]
            assert all(p["measured_ms"] > 0 and p["predicted_ms"] > 0 for p in ev["points"])
            assert cell["meets_target"] == (ev["within_10pct"] >= result["target_within_10pct"])
            assert (smoke_result / cell["plot"]).stat().st_size > 1000
            assert cell["fit"]["relative"] and 0 <= cell["absolute"]["within_10pct"] <= 1
            assert cell["fit"]["passes"] == SMOKE["passes"] == 2
            assert ev["repeatability"]["n"] == SMOKE["eval_n"]


def test_a_run_of_some_cells_keeps_the_others_with_their_commit(smoke_result):
    from bench import predictor_accuracy

    path = smoke_result / "predictor_accuracy.json"
    before = json.loads(path.read_text())
    earlier = {**before["cells"]["resnet20-tiny"]["host-ort"], "git_commit": "0" * 40}
    before["cells"]["resnet20-tiny"]["host-tflite"] = earlier
    path.write_text(json.dumps(before))
    with results_in(smoke_result.parent.parent):
        assert predictor_accuracy.main(["--smoke", "--profiles", "host-ort"]) == 0
    after = json.loads(path.read_text())["cells"]["resnet20-tiny"]
    assert after["host-tflite"]["git_commit"] == "0" * 40            # kept as it was
    assert after["host-ort"]["git_commit"] != "0" * 40               # measured again


def test_latency_vs_macs_reads_the_predictor_result(smoke_result):
    from bench import latency_vs_macs

    assert latency_vs_macs.main(["--smoke"]) == 0   # the fixture's results folder is in force
    result = json.loads((smoke_result / "latency_vs_macs.json").read_text())
    source = json.loads((smoke_result / "predictor_accuracy.json").read_text())
    for model, by_profile in source["cells"].items():
        for profile, pc in by_profile.items():
            cell = result["cells"][model][profile]
            assert cell["n"] == len(pc["eval"]["points"]) == len(cell["points"])
            # a pruned architecture never has more MACs than the unpruned model
            assert all(0 < p["macs"] <= cell["full_macs"] for p in cell["points"])
            assert -1 <= cell["spearman"] <= 1
            assert (smoke_result / cell["plot"]).stat().st_size > 1000
