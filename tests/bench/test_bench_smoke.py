"""Every benchmark section in its tiny smoke mode: it runs, writes a complete result file, and
the README is regenerated from it. Not a timed test: the figures of a smoke run mean nothing,
only their shape and basic sanity are checked. Minutes on a 2-core machine, hence slow."""
import json
import math

import pytest

from helpers.bench_results import results_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory):
    """Run `python -m bench.run_all --smoke` once, with results in a temporary folder."""
    from bench import run_all

    with results_in(tmp_path_factory.mktemp("bench"), own_cache=True) as folder:
        assert run_all.main(["--smoke"]) == 0
        yield folder


def _load(folder, name):
    return json.loads((folder / f"{name}.json").read_text())


def test_every_result_records_commit_seed_and_device(smoke_results):
    for name in ("search_quality", "search_cost", "export_parity"):
        result = _load(smoke_results, name)
        assert result["smoke"] is True
        assert len(result["git_commit"]) >= 40
        assert result["seed"] == 0 and result["config"]
        assert all(d["runtimes"] for d in result["devices"])


def test_search_quality_scores_every_method_on_one_finish_line(smoke_results):
    result = _load(smoke_results, "search_quality")
    (model,) = result["models"].values()
    scored = model["profiles"]["host-ort"]
    assert set(scored["methods"]) == {"latency-ga", "flops-ga-r8", "flops-ga-r1", "random",
                                      "uniform-l1", "tp-global-magnitude"}
    base_p50 = scored["baseline"]["latency_ms"]["p50"]
    assert base_p50 > 0
    # A search whose front holds only the unpruned model has no candidate; the one-shot
    # methods always hand theirs in.
    assert scored["methods"]["uniform-l1"]["points"]
    assert scored["methods"]["tp-global-magnitude"]["points"]
    for name, method in scored["methods"].items():
        assert 0.0 <= method["hypervolume"] <= 2.0
        for point in method["points"]:
            assert 0.0 <= point["accuracy_test"] <= 1.0
            assert point["latency_ms"]["p50_min"] <= point["latency_ms"]["p50"] \
                <= point["latency_ms"]["p50_max"]
            assert math.isclose(point["drop_points"],
                                100 * (scored["baseline"]["accuracy_test"] - point["accuracy_test"]))
        best = method["best_within_1pt"]
        if best is not None:
            assert best["drop_points"] <= 1.0
            assert best["latency_ms"]["p50"] == min(p["latency_ms"]["p50"] for p in method["points"]
                                                    if p["drop_points"] <= 1.0)
    # the GAs and random search share one evaluation budget
    budget = result["config"]["population"] * result["config"]["generations"]
    for name in ("latency-ga", "flops-ga-r8", "flops-ga-r1", "random"):
        assert 0 < scored["methods"][name]["evaluated"] <= budget


def test_export_parity_fp32_files_match_pytorch(smoke_results):
    result = _load(smoke_results, "export_parity")
    (model,) = result["models"].values()
    assert set(model["formats"]) == {"onnx", "onnx_int8", "tflite", "tflite_int8"}
    for fmt in ("onnx", "tflite"):
        assert model["formats"][fmt]["max_abs_diff"] < 1e-4
        assert model["formats"][fmt]["accuracy"] == pytest.approx(model["pytorch_accuracy_test"])
        assert model["formats"][fmt]["latency_ms"]["p50"] > 0


def test_search_cost_stages_fit_in_the_run(smoke_results):
    result = _load(smoke_results, "search_cost")
    run = result["default_run"]
    assert 0 < sum(run["stages_s"].values()) <= run["wall_s"] * 1.01
    assert run["evaluations"] >= 1 and run["latency_measured"] >= 1
    for model in result["scaling"].values():
        assert all(row["wall_s"] > 0 for row in model["rows"])


def test_readme_is_regenerated_with_every_section(smoke_results):
    text = (smoke_results / "README.md").read_text()
    for heading in ("## One seed on digits", "## 1. Search quality", "## 2. Measurement trust",
                    "## 3. Search cost", "## 4. Export parity", "## Closing note"):
        assert heading in text
    assert "(search_quality.png)" in text and (smoke_results / "search_quality.png").is_file()
