"""The predictor-accuracy section of bench/README.md says each cell's figures and verdict."""
from bench.readme_seeds import predictor_section


def test_each_cell_has_its_shares_and_a_verdict():
    cell = {"fit": {"samples": 200, "seconds": 75.0},
            "eval": {"within_5pct": 0.61, "within_10pct": 0.83, "median_abs_rel": 0.048,
                     "worst_abs_rel": 0.31, "n": 100},
            "meets_target": False, "plot": "p.png"}
    good = {**cell, "meets_target": True, "eval": {**cell["eval"], "within_10pct": 0.97}}
    r = {"git_commit": "abc", "load_average": [1.0], "cpu_count": 2, "target_within_10pct": 0.95,
         "config": {"fit_n": 200, "eval_n": 100, "min_keep": 0.05, "input_shape": [1, 1, 32, 32]},
         "cells": {"resnet20": {"host-ort": cell, "host-tflite": good}}}
    text = "\n".join(predictor_section(r))
    assert "| resnet20 | host-ort | 200, 75 s | 61% | 83% | 4.8% | 31% |" in text
    assert "Below the target." in text and "Meets the target." in text
    assert ">= 95% within ±10%" in text and "single measurements" in text


def test_a_relative_cell_shows_the_absolute_fit_of_the_same_data_and_a_kept_cells_commit():
    cell = {"fit": {"samples": 200, "seconds": 80.0, "relative": True},
            "eval": {"within_5pct": 0.8, "within_10pct": 0.97, "median_abs_rel": 0.03,
                     "worst_abs_rel": 0.12, "n": 100,
                     "repeatability": {"within_10pct": 0.88, "median_abs_rel": 0.021}},
            "absolute": {"within_10pct": 0.41, "median_abs_rel": 0.12},
            "meets_target": True, "plot": "p.png", "git_commit": "abcdef1234567"}
    kept = {**cell, "fit": {"samples": 200, "seconds": 551.0}, "absolute": None,
            "git_commit": "0123456789ab", "finished_utc": "2026-12-04T19:37:14Z"}
    r = {"git_commit": "abcdef1234567", "load_average": [1.0], "cpu_count": 2,
         "target_within_10pct": 0.95,
         "config": {"fit_n": 200, "eval_n": 100, "min_keep": 0.05, "input_shape": [1, 1, 32, 32],
                    "passes": 2},
         "cells": {"resnet20": {"host-ort": cell, "host-tflite": kept}}}
    lines = predictor_section(r)
    assert "measured in 2 passes" in lines[2] and "single measurements" not in lines[2]
    rows = [line for line in lines if line.startswith("| resnet20")]
    assert "| 41%, 12.0% | 88%, 2.1% |" in rows[0] and "Relative." in rows[0] and "commit" not in rows[0]
    assert "| - |" in rows[1] and "Absolute latencies" in rows[1]
    assert "Measured at commit `0123456789`, 2026-12-04T19:37:14Z." in rows[1]
