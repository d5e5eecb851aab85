"""Search quality at equal cost (issue 7, section 1; issue 5's latency-vs-FLOPs bench).

    python -m bench.search_quality            # 2 models x 2 profiles, writes search_quality.json/png
    python -m bench.search_quality --smoke    # tiny model, seconds; CI runs it

Per model, the methods: the latency-driven NSGA-II (measured p50 on the profile, round_to from
the profile), the same GA driven by FLOPs with and without rounding to 8, random search over the
same genome (as many draws as the GA's budget, scored the GA's step-1 way, latency measured),
uniform L1 pruning at several keeps and torch-pruning's global magnitude pruner at several
ratios. The GAs share population, generations and seed: equal numbers of evaluated
architectures. Every candidate then crosses the same finish line (quality_finish.py).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from bench import quality_methods as qm
from bench.common import (Stopwatch, device_facts, full_test_split, load_bench_inputs, work_dir,
                          write_result)
from bench.quality_finish import Finisher, head_to_head
from pipeline.progress import status

FULL = {"models": ["resnet20", "bench.models:mobilenetv2_lite"], "profiles": ["host-ort", "host-tflite"],
        "population": 8, "generations": 5, "keeps": [0.7, 0.5],
        "tp_ratios": [0.3, 0.5], "per_method": 2, "estimate_gap": 0.3,
        "recover_steps": 100, "rounds": 3, "train_epochs": None,
        "measure": {}}
# Smoke proves the code path works; its figures mean nothing (5 timed runs, 2 KD steps).
SMOKE = {**FULL, "models": ["resnet20-tiny"], "profiles": ["host-ort"], "population": 4,
         "generations": 2, "keeps": [0.5], "tp_ratios": [0.5], "per_method": 1,
         "recover_steps": 2, "rounds": 1, "train_epochs": 1, "supernet_epochs": 1,
         "pick": "bisect",   # the smoke takes the path the Fashion-MNIST bench takes
         "measure": {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 5, "min_time_s": 0.0,
                     "drift_every": 0}}
# What the bench changes from the default run, for every GA alike, to fit its time budget: no
# layer sensitivity scan (on host-tflite its 20-odd conversions cost as much as the search) and
# 2 step-2 fine-tunes per generation instead of 3.
SEARCH_OVERRIDES = ["search.sensitivity=false", "search.refine_per_generation=2"]


def base_config(model: str, s: dict, extra: list[str] = ()):
    """extra: overrides after the bench's own (the latency GA's variant under test)."""
    from pipeline.config import load_config

    overrides = [*s.get("data_overrides", []), f"seed={s.get('seed', 0)}",
                 f"model.name={model}", f"search.population={s['population']}",
                 f"search.generations={s['generations']}", *SEARCH_OVERRIDES, *extra]
    if s["train_epochs"]:
        overrides.append(f"train.epochs={s['train_epochs']}")
    if s.get("supernet_epochs") is not None:
        overrides.append(f"search.supernet_epochs={s['supernet_epochs']}")
    return load_config(overrides=overrides)


def profile_for(name: str, s: dict):
    from pipeline.devices import load_profile

    return dataclasses.replace(load_profile(name), **s["measure"])


def bench_model(model: str, s: dict, smoke: bool) -> dict:
    import torch

    from pipeline.devices import MeasurementCache, open_device
    from pipeline.prune import SearchSpace

    cfg = base_config(model, s)
    watch = Stopwatch()
    with watch("baseline"):
        inputs = load_bench_inputs(cfg)
    splits, base_model, base_info = inputs
    example = torch.zeros(splits.input_shape)
    work = work_dir(smoke, f"search_quality/{s.get('tag', '')}{model.replace(':', '_')}")
    ort = profile_for("host-ort", s)
    # One supernet for every method of this model: equal training steps, and each scores
    # architectures the same way (it was trained at single-channel granularity).
    status(f"[{model}] supernet shared by every method")
    supernet, supernet_dir = qm.shared_supernet(cfg, inputs, work / "shared")
    span = s.get("front_span", 0.5)
    pick = s.get("pick", "spread")
    ga_args = dict(per_method=s["per_method"], gap=s["estimate_gap"], supernet_dir=supernet_dir,
                   span=span, pick=pick)

    # Device-independent methods: run once, scored on every profile.
    status(f"[{model}] FLOPs-driven GA, round_to 8")
    flops8 = qm.run_ga("flops-ga-r8", qm.search_config(cfg, "flops", 8), ort, None, inputs,
                       work / "flops8", **ga_args)
    status(f"[{model}] FLOPs-driven GA, no rounding")
    flops1 = qm.run_ga("flops-ga-r1", qm.search_config(cfg, "flops", 1), ort, None, inputs,
                       work / "flops1", **ga_args)
    start = time.perf_counter()
    space1 = SearchSpace.from_model(base_model, example, round_to=1)
    uniform = qm.MethodResult("uniform-l1", qm.uniform_candidates(space1, s["keeps"]),
                              evaluated=len(s["keeps"]), wall_s=time.perf_counter() - start)
    start = time.perf_counter()
    tp_cands = qm.global_magnitude_candidates(base_model, example, s["tp_ratios"],
                                              qm.classifier_layer(base_model))
    tp_global = qm.MethodResult("tp-global-magnitude", tp_cands, evaluated=len(tp_cands),
                                wall_s=time.perf_counter() - start)
    budget = s["population"] * s["generations"]
    genomes = qm.random_genomes(space1, cfg.search.min_keep, budget, cfg.seed)
    status(f"[{model}] random search: scoring {len(genomes)} random architectures")
    rand_cfg = qm.search_config(cfg, "flops", 1)
    rand_evaluator, rand_evals, rand_s = qm.score_random(rand_cfg, inputs, space1, genomes,
                                                         work / "random", supernet)
    test = full_test_split(cfg, splits) if s.get("full_test") else None
    finisher = Finisher(inputs, cfg.recover, s["recover_steps"], cfg.seed, work / "final", test)
    out = {"baseline": {"accuracy_val": base_info["accuracy_val"],
                        "accuracy_test": base_info["accuracy_test"],
                        "training": base_info["training"]},
           "profiles": {}, "devices": []}
    for name in s["profiles"]:
        profile = profile_for(name, s)
        (work / f"latency-{name}.sqlite").unlink(missing_ok=True)   # fresh each run: a
        cache = MeasurementCache(work / f"latency-{name}.sqlite")   # search measures for real
        status(f"[{model}] latency-driven GA on {name}")
        with open_device(profile, cache=cache) as device:
            # The latency GA at single-channel granularity (the product's default): the
            # device's staircase is for the search to find, not a bound set beforehand.
            variant = base_config(model, s, s.get("latency_ga_overrides", []))
            latency = qm.run_ga("latency-ga", qm.search_config(variant, "device", 1),
                                profile, device, inputs, work / f"latency-{name}", **ga_args)
            status(f"[{model}] random search: latency of {len(rand_evals)} files on {name}")
            rand = qm.random_search(rand_evaluator, rand_evals, device, base_info, rand_s,
                                    per_method=s["per_method"], gap=s["estimate_gap"], span=span,
                                    pick=pick)
        methods = [latency, flops8, flops1, rand, uniform, tp_global]
        with open_device(profile) as device:  # no cache: the final files are measured afresh
            scored = finisher.score(device, methods, s["rounds"])
        scored["head_to_head"] = head_to_head(scored)
        out["profiles"][name] = scored
        out["devices"].append(device_facts(profile))
        _say(model, name, scored)
    out["recover_s"] = finisher.recover_s
    out["baseline_s"] = watch.seconds["baseline"]
    return out


def _say(model: str, profile: str, scored: dict) -> None:
    h = scored["head_to_head"]
    base = scored["baseline"]["latency_ms"]["p50"]
    for name, m in scored["methods"].items():
        best = m["best_within_1pt"]
        txt = (f"{best['latency_ms']['p50']:.3f} ms ({best['speedup']:.2f}x)" if best
               else "none within 1 point")
        status(f"[{model} / {profile}] {name:20s} {txt}, HV {m['hypervolume']:.3f}")
    ratio = h.get("latency_ratio_ours_over_other")
    status(f"[{model} / {profile}] baseline {base:.3f} ms; latency GA / best other "
           f"({h.get('best_other_method')}): {ratio['median']:.3f}" if ratio else
           f"[{model} / {profile}] no head-to-head ratio (a side has nothing within 1 point)")


def run(smoke: bool = False, models: list[str] | None = None,
        profiles: list[str] | None = None) -> dict:
    s = dict(SMOKE if smoke else FULL)
    if models:
        s["models"] = models
    if profiles:
        s["profiles"] = profiles
    start = time.perf_counter()
    results, devices = {}, {}
    for model in s["models"]:
        results[model] = bench_model(model, s, smoke)
        for facts in results[model].pop("devices"):
            devices[facts["profile"]] = facts
        # Written after each model, so a long run interrupted later keeps what it finished.
        path = write_result("search_quality", smoke, {
            "models": results, "wall_s": time.perf_counter() - start},
            config={**s, "search_overrides": SEARCH_OVERRIDES}, seed=0,
            devices=list(devices.values()))
    from bench.plots import plot_search_quality

    plot_search_quality(results, path.with_suffix(".png"))
    status(f"written: {path}")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings, seconds")
    parser.add_argument("--models", nargs="*", help="override the model list")
    parser.add_argument("--profiles", nargs="*", help="override the device profiles")
    args = parser.parse_args(argv)
    run(args.smoke, args.models, args.profiles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
