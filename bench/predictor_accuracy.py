"""Predictor accuracy (issue 13): `predictor fit` then `predictor eval` per model and device,
as the CLI does them, on a fresh latency cache so every architecture is really measured.

    python -m bench.predictor_accuracy           # resnet20 + mobilenetv2_lite, host-ort + host-tflite
    python -m bench.predictor_accuracy --smoke   # tiny settings, seconds

Target (issue 13): >= 95% of 100 fresh architectures within ±10% of their measured p50.
Weights are untrained: latency does not depend on them.
"""
from __future__ import annotations

import argparse
import shutil

from bench.common import device_facts, git_commit, results_dir, work_dir, write_result
from pipeline.progress import status

TARGET_WITHIN_10PCT = 0.95
FULL = {"models": ["resnet20", "bench.models:mobilenetv2_lite"],
        "profiles": ["host-ort", "host-tflite"], "input_shape": [1, 1, 32, 32],
        "fit_n": 200, "eval_n": 100, "min_keep": 0.05, "round_to": 1}
SMOKE = {"models": ["resnet20-tiny"], "profiles": ["host-ort"], "input_shape": [1, 1, 16, 16],
         "fit_n": 12, "eval_n": 6, "min_keep": 0.05, "round_to": 1}


def cell(model_ref: str, profile_name: str, s: dict, cache, workdir, plot_path) -> dict:
    import torch

    from pipeline.devices import load_profile, open_device
    from pipeline.models import build_model
    from pipeline.predictor.evaluation import plot_scatter
    from pipeline.predictor.session import eval_on_device, fit_on_device
    from pipeline.prune import SearchSpace

    shape = tuple(s["input_shape"])
    torch.manual_seed(0)
    model = build_model(model_ref, num_classes=10, in_channels=shape[1]).eval()
    example = torch.zeros(shape)
    space = SearchSpace.from_model(model, example, round_to=s["round_to"])
    with open_device(load_profile(profile_name), cache) as device:
        _, report = fit_on_device(model, space, example, device, cache, workdir, s["fit_n"], seed=0,
                                  min_keep=s["min_keep"], fresh=True)
        result = eval_on_device(model, space, example, device, cache, workdir, s["eval_n"], seed=0,
                                min_keep=s["min_keep"])
    plot_scatter(result, plot_path, f"{model_ref} on {profile_name}")
    status(f"[{model_ref} / {profile_name}] fit {report.samples} in {report.seconds:.0f} s; "
           f"eval {result['within_10pct']:.0%} within ±10%, median {result['median_abs_rel']:.1%}")
    return {"fit": {"samples": report.samples, "measured": report.measured,
                    "seconds": report.seconds, "chosen": report.chosen},
            "eval": result, "meets_target": result["within_10pct"] >= TARGET_WITHIN_10PCT,
            "plot": plot_path.name}


def run(smoke: bool = False) -> dict:
    from pipeline.devices import MeasurementCache, load_profile

    s = SMOKE if smoke else FULL
    folder = work_dir(smoke, "predictor_accuracy")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cache = MeasurementCache(folder / "latency.sqlite")   # fresh: everything measured now
    cells: dict = {}
    try:
        for model_ref in s["models"]:
            for profile in s["profiles"]:
                safe = f"{model_ref.replace(':', '_').replace('.', '_')}-{profile}"
                plot = results_dir(smoke) / f"predictor_accuracy-{safe}.png"
                cells.setdefault(model_ref, {})[profile] = cell(model_ref, profile, s, cache,
                                                                folder / safe, plot)
    finally:
        cache.close()
    result = {"target_within_10pct": TARGET_WITHIN_10PCT, "cells": cells}
    path = write_result("predictor_accuracy", smoke, result, config=s, seed=0,
                        devices=[device_facts(load_profile(p)) for p in s["profiles"]])
    status(f"written: {path} (commit {git_commit()[:10]})")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings, seconds")
    run(parser.parse_args(argv).smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
