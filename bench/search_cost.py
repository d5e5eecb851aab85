"""Search cost (issue 7, section 3): where the default run's wall time goes, and how the
search's cost grows with population size and model size.

    python -m bench.search_cost           # the default `edgeprune run`, then the scaling runs
    python -m bench.search_cost --smoke   # tiny settings, seconds

1. The default run (`edgeprune run`'s configuration, host-ort) through the project's run_job,
   with the bench's trained baseline (its training time is reported from when the bench
   trained it) and a fresh latency cache, so every architecture is really measured.
2. Scaling: one generation of P random architectures per model, scored the GA's step-1 way
   and measured on host-ort (no cache). Weights are untrained: cost does not depend on them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time

from bench.common import device_facts, git_commit, load_bench_inputs, work_dir, write_result
from pipeline.progress import status

# (model, population) pairs: population growth on the default model, model growth at 4.
FULL = {"overrides": [], "scaling": [["resnet20", 4], ["resnet20", 8], ["resnet56", 4],
                                     ["bench.models:mobilenetv2_lite", 4]]}
SMOKE = {"overrides": ["model.name=resnet20-tiny", "train.epochs=1", "search.population=4",
                       "search.generations=1", "search.sensitivity_keeps=0.5",
                       "search.refine_per_generation=1", "search.front_finetune_steps=2",
                       "recover.epochs=1", "recover.max_candidates=1", "export.formats=onnx",
                       "winners=1"],
         "scaling": [["resnet20-tiny", 4]]}


def default_run(s: dict, smoke: bool) -> dict:
    from pipeline.config import load_config
    from pipeline.paths import cache_dir
    from pipeline.run import run_job

    cfg = load_config(overrides=s["overrides"])
    _, _, info = load_bench_inputs(cfg)   # trains (timed) only if the bench never did
    run_dir = work_dir(smoke, "search_cost/default-run")
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    latency_cache = work_dir(smoke, "search_cost/fresh-latency-cache")
    shutil.rmtree(latency_cache, ignore_errors=True)
    cfg.train.cache_dir = str(cache_dir())   # the bench's baseline ...
    saved = os.environ.get("EDGEPRUNE_CACHE")
    os.environ["EDGEPRUNE_CACHE"] = str(latency_cache)   # ... and an empty latency cache
    start = time.perf_counter()
    try:
        run_job(cfg, run_dir)
    finally:
        if saved is None:
            os.environ.pop("EDGEPRUNE_CACHE", None)
        else:
            os.environ["EDGEPRUNE_CACHE"] = saved
    wall_s = time.perf_counter() - start
    stages = json.loads((run_dir / "timings.json").read_text())
    pareto = json.loads((run_dir / "pareto.json").read_text())
    counters = pareto["counters"]
    lookups = counters["measured"] + counters["cached"]
    winners = [json.loads(p.read_text()) for p in sorted(run_dir.glob("winners/*/manifest.json"))]
    return {
        "config": cfg.to_dict() | {"train": {**cfg.to_dict()["train"], "cache_dir": "(bench cache)"}},
        "wall_s": wall_s,
        # run_job's clock nests sensitivity inside search: split it out.
        "stages_s": {"data": stages.get("data", 0.0), "train (cached baseline load)": stages.get("train", 0.0),
                     "sensitivity": stages.get("sensitivity", 0.0),
                     "search": stages.get("search", 0.0) - stages.get("sensitivity", 0.0),
                     "recovery + export + final measurement": stages.get("recover_export", 0.0),
                     "report": stages.get("report", 0.0)},
        "baseline_training": info["training"],
        "winner_recovery_s": {w["id"]: w["recovery"].get("seconds") for w in winners},
        "evaluations": counters["evaluated"], "latency_measured": counters["measured"],
        "latency_cached": counters["cached"],
        "cache_hit_rate": counters["cached"] / lookups if lookups else None,
        "cache_state": "empty at the start of the run",
    }


def scaling(s: dict, smoke: bool) -> dict:
    import torch

    from bench.quality_methods import random_genomes
    from pipeline.config import load_config
    from pipeline.data import load_data
    from pipeline.devices import load_profile, open_device
    from pipeline.models import build_model
    from pipeline.prune import SearchSpace, count_params_macs
    from pipeline.search.fitness import Evaluator

    cfg = load_config(overrides=s["overrides"])
    splits = load_data(cfg.data, cfg.seed)
    example = torch.zeros(splits.input_shape)
    out = {}
    for model_name, population in s["scaling"]:
        torch.manual_seed(cfg.seed)
        model = build_model(model_name, splits.num_classes, splits.input_shape[1]).eval()
        params, macs = count_params_macs(model, example)
        space = SearchSpace.from_model(model, example, round_to=8)
        rows = out.setdefault(model_name, {"params": params, "macs": macs,
                                           "groups": len(space.groups), "rows": []})["rows"]
        genomes = random_genomes(space, cfg.search.min_keep, population, seed=cfg.seed)
        workdir = work_dir(smoke, f"search_cost/scaling/{model_name.replace(':', '_')}"
                                  f"-{population}")
        with open_device(load_profile("host-ort")) as device:   # no cache: all measured
            evaluator = Evaluator(base_model=model, space=space, splits=splits,
                                  search_cfg=cfg.search, recover_cfg=cfg.recover,
                                  device=device, workdir=workdir, seed=cfg.seed)
            start = time.perf_counter()
            evaluator.evaluate(genomes, generation=0)
            wall_s = time.perf_counter() - start
        shutil.rmtree(workdir, ignore_errors=True)
        rows.append({"population": len(genomes), "wall_s": wall_s,
                     "per_architecture_s": wall_s / len(genomes)})
        status(f"[{model_name}] one generation of {len(genomes)}: {wall_s:.1f} s")
    return out


def run(smoke: bool = False) -> dict:
    from bench.plots import plot_search_cost
    from pipeline.devices import load_profile

    s = SMOKE if smoke else FULL
    result = {"default_run": default_run(s, smoke), "scaling": scaling(s, smoke)}
    path = write_result("search_cost", smoke, result, config=s, seed=0,
                        devices=[device_facts(load_profile("host-ort"))])
    plot_search_cost(result["default_run"]["stages_s"], result["scaling"],
                     path.with_suffix(".png"))
    status(f"written: {path} (commit {git_commit()[:10]})")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings, seconds")
    run(parser.parse_args(argv).smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
