"""Bench settings and README text that need no bench run: the plain win/lose sentence per
search-quality cell, and where the criteria bench reads Fashion-MNIST and writes its result."""
import pytest

from bench.readme_seeds import verdict


def cell(**fastest):
    return {m.replace("_", "-"): {"fastest_p50_median": v} for m, v in fastest.items()}


def test_no_file_within_one_point_is_a_loss_naming_who_had_one():
    text = verdict(cell(latency_ga=None, uniform_l1=0.77, random=None))
    assert text.startswith("**The latency GA loses") and "uniform-l1 did" in text


def test_the_fastest_file_wins_and_a_slower_one_loses_with_both_figures():
    text = verdict(cell(latency_ga=0.2, uniform_l1=0.3))
    assert "wins" in text and "0.200 against uniform-l1's 0.300" in text and "33.3% faster" in text
    text = verdict(cell(latency_ga=0.4, uniform_l1=0.3, random=0.35))
    assert "loses" in text and "uniform-l1's" in text and "0.300 against 0.400" in text


def test_nobody_within_one_point_is_said_too():
    assert "nor did any other method" in verdict(cell(latency_ga=None, random=None))


def test_criteria_blend_on_fashion_mnist_uses_the_search_benchs_subset_and_own_file():
    from bench.criteria_blend import FULL, base_config, result_name

    assert result_name("digits") == "criteria_blend"
    assert result_name("fashion-mnist") == "criteria_blend_fashion_mnist"
    cfg = base_config("resnet20", FULL, "fashion-mnist")
    assert (cfg.data.name, cfg.data.image_size, cfg.data.limit) == ("fashion-mnist", 28, 6000)


def test_criteria_blend_takes_one_winners_run_per_model_and_refuses_a_mismatch():
    import pytest

    from bench.criteria_blend import RECOVER_STEPS, winners_per_model
    from pipeline.errors import UserError

    assert winners_per_model(["runs/a"], ["resnet20"]) == {"resnet20": "runs/a"}
    both = ["resnet20", "bench.models:mobilenetv2_lite"]
    assert winners_per_model(["resnet20=runs/a", "bench.models:mobilenetv2_lite=runs/b"], both) \
        == {"resnet20": "runs/a", "bench.models:mobilenetv2_lite": "runs/b"}
    with pytest.raises(UserError, match="MODEL=RUN_DIR"):
        winners_per_model(["runs/a"], both)
    with pytest.raises(UserError, match="not among --models"):
        winners_per_model(["vgg=runs/a"], both)
    assert RECOVER_STEPS["fashion-mnist"] > 40   # Fashion-MNIST's pruned models need more recovery


def test_recovery_steps_follow_the_data_set_unless_the_command_line_says():
    from bench import criteria_blend, search_seeds

    assert search_seeds.settings("fashion-mnist", False)["recover_steps"] == 600
    assert search_seeds.settings("fashion-mnist", False, recover_steps=50)["recover_steps"] == 50
    digits = search_seeds.settings("digits", False, models=["m"], profiles=["p"])
    assert digits["recover_steps"] < 600 and (digits["models"], digits["profiles"]) == (["m"], ["p"])
    assert digits["pick"] == "bisect"   # the product's finish, as on Fashion-MNIST
    assert criteria_blend.settings(False, "fashion-mnist")["recover_steps"] == 100
    assert criteria_blend.settings(False, "digits")["recover_steps"] == 40
    custom = criteria_blend.settings(False, "digits", models=["m"], seeds=2, recover_steps=7)
    assert (custom["models"], custom["seeds"], custom["recover_steps"]) == (["m"], [0, 1], 7)
    assert criteria_blend.settings(True, "fashion-mnist", recover_steps=99)["recover_steps"] == 3


def test_the_criteria_bench_compares_at_the_runs_main_winner_only(tmp_path):
    import json

    import pytest

    from bench.criteria_blend import winner_targets
    from pipeline.errors import UserError

    class Space:
        def validate(self, channels):
            assert channels

    for reason, width in (("knee", 9), ("most-accurate-tried", 5)):
        (tmp_path / "winners" / reason).mkdir(parents=True)
        (tmp_path / "winners" / reason / "manifest.json").write_text(
            json.dumps({"channels": {"conv1": width}}))
    # no fastest-within-1pt: the finish's fallback is the winner a user deploys, not the knee
    assert winner_targets(str(tmp_path), Space()) == {"winner-most-accurate-tried": {"conv1": 5}}
    with pytest.raises(UserError, match="no winners"):
        winner_targets(str(tmp_path / "nothing"), Space())


def test_where_accuracy_binds_each_search_front_is_bisected_like_the_products_finish():
    from bench import search_seeds
    from bench.quality_finish import Finisher
    from bench.quality_methods import Candidate, MethodResult

    assert search_seeds.settings("fashion-mnist", False)["pick"] == "bisect"
    finisher = Finisher.__new__(Finisher)   # recover() replaced: no model, no data
    finisher.base_info, finisher.info = {"accuracy_val": 0.90}, {}

    def recover(cand):   # rungs 0-5 recover 3 points short, 6 and slower within the point
        finisher.info[cand.key] = {"accuracy_val": 0.87 if int(cand.key) < 6 else 0.895}

    finisher.recover = recover
    ladder = [Candidate("latency-ga", str(i), f"r{i}") for i in range(12)]
    result = MethodResult("latency-ga", [], evaluated=40, wall_s=0.0, ladder=ladder, budget=3)
    assert [c.key for c in finisher.bisect(result)] == ["5", "8", "6"]


def test_a_seed_without_a_file_within_one_point_counts_as_the_unpruned_model():
    from bench.search_seeds import aggregate

    def seed(ours, other):
        lat = lambda ms: {"p50": ms, "rounds_p50": [ms, ms, ms]}  # noqa: E731
        best = lambda ms: ms and {"latency_ms": lat(ms), "speedup": 0.6 / ms}  # noqa: E731
        return {"m": {"profiles": {"p": {"baseline": {"latency_ms": lat(0.6)}, "methods": {
            "latency-ga": {"best_within_1pt": best(ours), "points": []},
            "uniform-l1": {"best_within_1pt": best(other), "points": []}}}}}}

    cells = aggregate({0: seed(None, 0.3), 1: seed(0.2, 0.3), 2: seed(0.25, 0.3)})["m"]["p"]
    ga = cells["latency-ga"]
    # the median over seeds that kept a file (0.225) would hide seed 0's miss
    assert (ga["fastest_p50_median"], ga["within"]) == (0.25, 2)
    assert ga["speedup"] == pytest.approx([1.0, 3.0, 2.4])
    assert cells["uniform-l1"]["ga_over_this"][0] == 2.0   # seed 0: unpruned vs its 0.3 ms


def test_a_method_without_a_file_in_any_seed_is_said_so_not_ranked_by_the_baseline():
    methods = {"latency-ga": {"fastest_p50_median": 0.56, "within": 0},
               "uniform-l1": {"fastest_p50_median": 0.3, "within": 3}}
    text = verdict(methods)
    assert "kept no file within 1 point" in text and "uniform-l1 did" in text


def test_a_run_of_one_model_adds_its_cells_and_keeps_the_others_with_their_commit():
    from bench.search_seeds import kept_cells, merged

    config = {"population": 8, "generations": 5, "recover_steps": 600}
    cell = lambda tag: {"baseline": {"tag": tag}, "methods": {}}  # noqa: E731
    last = {"git_commit": "old", "finished_utc": "then", "config": config, "per_seed": {
        "0": {"resnet20": {"profiles": {"host-ort": cell("r-ort"), "host-tflite": cell("r-tfl")}},
              "mbv2": {"profiles": {"host-ort": cell("m-old")}}}}}
    now = {**config, "models": ["mbv2"], "profiles": ["host-ort"]}
    kept = kept_cells(last, now, seeds=[0])
    assert set(kept[0]) == {"resnet20"}             # mbv2 on host-ort is redone now
    assert kept[0]["resnet20"]["profiles"]["host-ort"]["git_commit"] == "old"
    run = {0: {"mbv2": {"profiles": {"host-ort": cell("m-new")}}}}
    both = merged(run, kept)
    assert both[0]["mbv2"]["profiles"]["host-ort"]["baseline"]["tag"] == "m-new"
    assert set(both[0]["resnet20"]["profiles"]) == {"host-ort", "host-tflite"}
    # a last result of other settings is not mixed into this one's table
    assert kept_cells(last, {**now, "recover_steps": 100}, seeds=[0]) == {}


def test_medians_closer_than_half_a_percent_are_a_tie_not_a_win_or_a_loss():
    for ours in (0.1104, 0.1106, 0.1108):
        text = verdict(cell(latency_ga=ours, flops_ga_r8=0.1106, uniform_l1=0.126))
        assert "ties this cell, not a win" in text and "flops-ga-r8" in text
    assert "loses" in verdict(cell(latency_ga=0.112, flops_ga_r8=0.1106))


def test_the_readme_names_the_earlier_run_that_measured_a_kept_cell():
    from bench.readme_seeds import _provenance

    r = {"git_commit": "new" * 4, "per_seed": {
        "0": {"a": {"wall_s": 600, "profiles": {"p": {"git_commit": "old" * 4,
                                                      "finished_utc": "T1"}}},
              "b": {"profiles": {"p": {"git_commit": "new" * 4}}}},
        "1": {"a": {"wall_s": 540, "profiles": {"p": {"git_commit": "old" * 4,
                                                      "finished_utc": "T2"}}}}}}
    line = _provenance(r, "a", "p")[0]
    assert "`oldoldoldo`" in line and "finished T2" in line and "19.0 min" in line
    assert _provenance(r, "b", "p") == []   # measured by the last run: said in the header


def test_the_val5k_run_is_the_fashion_run_with_the_finish_judged_on_unused_images():
    from bench import search_seeds
    from pipeline.config import load_config

    plain, val5k = (search_seeds.settings(d, False) for d in ("fashion-mnist", "fashion-mnist-val5k"))
    # the same subset, recovery and finish; only where validation comes from differs
    assert set(plain["data_overrides"]) < set(val5k["data_overrides"])
    assert {k: v for k, v in plain.items() if k != "data_overrides"} == \
        {k: v for k, v in val5k.items() if k != "data_overrides"}
    cfg = load_config(None, val5k["data_overrides"])
    assert (cfg.data.limit, cfg.data.val_images, cfg.search.val_subset) == (6000, 5000, 1000)
    # its own settings: a run of it never keeps, or replaces, the fashion-mnist grid's cells
    assert search_seeds.kept_cells({"config": plain, "per_seed": {}}, val5k, [0]) == {}


def test_macs_split_a_latency_ratio_into_the_accuracy_side_and_the_device_side():
    from bench.readme_seeds import split_by_macs
    from bench.search_seeds import aggregate

    def f(macs_m, ms):
        return {"key": f"{macs_m}-{ms}", "macs": macs_m * 1e6, "speedup": 0.6 / ms,
                "accuracy_test": 0.9,
                "latency_ms": {"p50": ms, "rounds_p50": [ms, ms, ms]}}

    def seed(ours, other):   # every other file on the line p50 = 0.05 + 0.015 ms per MMAC
        line = [f(5, 0.125), f(20, 0.35)]
        return {"m": {"profiles": {"p": {"baseline": {"latency_ms": f(40, 0.65)["latency_ms"]},
                "methods": {"latency-ga": {"best_within_1pt": ours, "points": []},
                            "flops-ga-r8": {"best_within_1pt": other, "points": line}}}}}}

    # seed 0: both on the line, the latency GA's with 10% fewer MACs (the accuracy side only);
    # seed 1: the same MACs, the GA's 5% under the line and theirs 5% over (the device side only)
    cells = aggregate({0: seed(f(9, 0.185), f(10, 0.2)), 1: seed(f(10, 0.19), f(10, 0.21))})
    other = cells["m"]["p"]["flops-ga-r8"]
    assert other["ga_macs_over_this"] == pytest.approx([0.9, 1.0])
    assert other["ga_device_over_this"] == pytest.approx([1.0, 0.95 / 1.05])
    assert other["macs_median"] == 10e6
    line = split_by_macs(cells["m"]["p"])[0]
    assert "flops-ga-r8" in line and "0.950x [0.900-1.000] its MACs" in line
    assert "0.952x [0.905-1.000] as long as" in line
    # no MACs stored (older results): nothing said rather than a made-up split
    other["ga_macs_over_this_median"] = None
    assert split_by_macs(cells["m"]["p"]) == []


def test_a_latency_ga_variant_writes_its_own_result_and_keeps_the_products_cells_apart():
    from bench import search_seeds

    plain = search_seeds.settings("fashion-mnist-val5k", False)
    variant = search_seeds.settings("fashion-mnist-val5k", False,
                                    latency_ga=["search.coarse_generations=3"])
    assert search_seeds.result_name("fashion-mnist-val5k") == "search_seeds_fashion_mnist_val5k"
    assert search_seeds.result_name("fashion-mnist-val5k", variant["latency_ga_overrides"]) == \
        "search_seeds_fashion_mnist_val5k__coarse_generations_3"
    # a result written before variants existed ran the product's GA: its cells stay with plain
    older = {"config": {k: v for k, v in plain.items() if k != "latency_ga_overrides"},
             "per_seed": {"0": {"m": {"profiles": {"p": {"methods": {}}}}}}}
    assert search_seeds.kept_cells(older, plain, seeds=[1])
    assert search_seeds.kept_cells(older, variant, seeds=[1]) == {}


def test_the_variant_reaches_the_latency_ga_alone():
    from bench.search_quality import base_config

    s = {"population": 8, "generations": 5, "train_epochs": None}
    cfg = base_config("resnet20", s, ["search.coarse_generations=3"])
    assert cfg.search.coarse_generations == 3
    assert base_config("resnet20", s).search.coarse_generations == 0


def test_a_mistyped_latency_ga_override_stops_before_any_work_in_one_line(capsys):
    from bench import search_seeds

    with pytest.raises(SystemExit) as stop:
        search_seeds.main(["--data", "fashion-mnist-val5k", "--latency-ga", "search.coarse=3"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--latency-ga" in err[-1] and "search.coarse" in err[-1] and "Traceback" not in "".join(err)


def test_the_headline_over_seeds_tallies_every_cell_losses_as_plainly_as_wins():
    from bench.readme_seeds import seeds_headline

    def seed(**fastest):
        lat = lambda ms: {"p50": ms, "rounds_p50": [ms, ms, ms]}  # noqa: E731
        methods = {m.replace("_", "-"): {"best_within_1pt": ms and {"latency_ms": lat(ms),
                                                                    "speedup": 0.6 / ms},
                                         "points": []} for m, ms in fastest.items()}
        return {"profiles": {"p": {"baseline": {"latency_ms": lat(0.6)}, "methods": methods}}}

    won = {"data": "d1", "per_seed": {s: {"m": seed(latency_ga=0.2, flops_ga_r8=0.25)}
                                      for s in (0, 1, 2)}}
    lost = {"data": "d2", "per_seed": {s: {"m": seed(latency_ga=0.3, uniform_l1=0.25)}
                                       for s in (0, 1)}}
    lines = seeds_headline([won, lost])
    text = "\n".join(lines)
    assert "wins 1, ties 0 and loses 1 of 2 cells" in text
    rows = [line for line in lines if line.startswith(("| d1", "| d2"))]
    assert rows[0].startswith("| d1 | m | p | 3 | 0.200") and "flops-ga-r8 | 0.250 | 0.80 | **wins**" in rows[0]
    assert rows[1].startswith("| d2 | m | p | 2 | 0.300") and "uniform-l1 | 0.250 | 1.20 | **loses**" in rows[1]
    assert seeds_headline([]) == []


def test_the_bench_readme_opens_with_every_stored_search_over_seeds_cell(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    import bench.common
    from bench.readme import write_readme

    monkeypatch.setattr(bench.common, "SMOKE_DIR", tmp_path)
    stored = Path(bench.common.RESULTS_DIR) / "search_seeds_digits.json"
    shutil.copy(stored, tmp_path / "search_seeds_digits.json")   # a real run's result
    shutil.copy(stored, tmp_path / "search_seeds_digits__coarse_generations_3.json")
    text = write_readme(smoke=True).read_text()
    head = text.split("## Search quality over seeds")[0]
    assert "## Headline: the fastest file within 1 point, over seeds" in head
    assert "of 4 cells" in head                       # the product's cells, not the variant's
    assert head.count("| digits |") == 4
    assert text.count("## Search quality over seeds: digits") == 2   # product, then the variant
