"""Predictor accuracy (issue 13): `predictor fit` then `predictor eval` per model and device,
as the CLI does them, on a fresh latency cache so every architecture is really measured.

    python -m bench.predictor_accuracy           # resnet20 + mobilenetv2_lite, host-ort + host-tflite
    python -m bench.predictor_accuracy --smoke   # tiny settings, seconds

Target (issue 13): >= 95% of 100 fresh architectures within ±10% of their measured p50.
Architectures are drawn as `predictor fit` / `eval` draw them by default (min keep 0: down to
one channel per group, where the search's fastest members lie).
Weights are untrained: latency does not depend on them.
"""
from __future__ import annotations

import argparse
import shutil
import time

from bench.common import (cells_left_out, device_facts, git_commit, results_dir, work_dir,
                          write_result)
from pipeline.progress import status

TARGET_WITHIN_10PCT = 0.95
FULL = {"models": ["resnet20", "bench.models:mobilenetv2_lite"],
        "profiles": ["host-ort", "host-tflite"], "input_shape": [1, 1, 32, 32],
        "fit_n": 200, "eval_n": 100, "min_keep": 0.0, "round_to": 1, "passes": 2}
SMOKE = {"models": ["resnet20-tiny"], "profiles": ["host-ort"], "input_shape": [1, 1, 16, 16],
         "fit_n": 12, "eval_n": 6, "min_keep": 0.0, "round_to": 1, "passes": 2}


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
        predictor, report = fit_on_device(model, space, example, device, cache, workdir, s["fit_n"], seed=0,
                                  min_keep=s["min_keep"], fresh=True, passes=s["passes"])
        result = eval_on_device(model, space, example, device, cache, workdir, s["eval_n"], seed=0,
                                min_keep=s["min_keep"], passes=s["passes"])
    plot_scatter(result, plot_path, f"{model_ref} on {profile_name}")
    status(f"[{model_ref} / {profile_name}] fit {report.samples} in {report.seconds:.0f} s; "
           f"eval {result['within_10pct']:.0%} within ±10%, median {result['median_abs_rel']:.1%}"
           + (f"; the device's passes agree within ±10% for "
              f"{result['repeatability']['within_10pct']:.0%}" if result.get("repeatability") else ""))
    return {"fit": {"samples": report.samples, "measured": report.measured,
                    "seconds": report.seconds, "chosen": report.chosen,
                    "relative": report.relative, "passes": report.passes},
            "eval": result, "meets_target": result["within_10pct"] >= TARGET_WITHIN_10PCT,
            "absolute": absolute_on_same(predictor, result["points"]),
            "plot": plot_path.name, "git_commit": git_commit(),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def absolute_on_same(predictor, points: list[dict]) -> dict | None:
    """The same measurements learned as absolute latencies (each sample's reference dropped):
    what the reference buys, on this run's host."""
    import dataclasses

    import numpy as np

    from pipeline.predictor.model import LatencyPredictor, error_summary

    if not predictor.relative:
        return None
    absolute = LatencyPredictor(predictor.table).fit(
        [dataclasses.replace(s, reference_ms=None) for s in predictor.samples])
    measured = np.array([p["measured_ms"] for p in points])
    return error_summary(absolute.predict([p["channels"] for p in points]) / measured - 1)


def run(smoke: bool = False, models=None, profiles=None) -> dict:
    """Every cell of the grid, or the given models / profiles: then the other cells of the last
    result are kept, each with the commit and time it was measured at."""
    from pipeline.devices import MeasurementCache, load_profile

    s = dict(SMOKE if smoke else FULL)
    kept, commits, _ = cells_left_out("predictor_accuracy", smoke, models, profiles)
    for model_ref, by_profile in kept.items():   # each kept cell carries its own commit
        for profile, c in by_profile.items():
            for k in ("git_commit", "finished_utc"):
                c.setdefault(k, commits[f"{model_ref} / {profile}"][k])
    s["models"], s["profiles"] = models or s["models"], profiles or s["profiles"]
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
    for model_ref, old in kept.items():
        for profile, c in old.items():
            cells.setdefault(model_ref, {}).setdefault(profile, c)
    result = {"target_within_10pct": TARGET_WITHIN_10PCT, "cells": cells}
    names = sorted({p for m in cells.values() for p in m})
    path = write_result("predictor_accuracy", smoke, result, config=s, seed=0,
                        devices=[device_facts(load_profile(p)) for p in names])
    status(f"written: {path} (commit {git_commit()[:10]})")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings, seconds")
    parser.add_argument("--models", nargs="*", help="only these models (other cells are kept)")
    parser.add_argument("--profiles", nargs="*", help="only these devices (other cells are kept)")
    args = parser.parse_args(argv)
    run(args.smoke, args.models, args.profiles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
