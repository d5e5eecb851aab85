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
    assert ">= 95% within ±10%" in text
