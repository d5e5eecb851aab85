"""Fewer device measurements for the same front (issue 13): the search measuring every
architecture it evaluates, against the default screened search and latency_source=predicted.

    python -m bench.screened_search                      # resnet20, host-ort, seeds 0 1 2
    python -m bench.screened_search --profiles host-ort host-tflite --seeds 0
    python -m bench.screened_search --smoke              # tiny settings, seconds
    python -m bench.screened_search --modes measure-all predicted-stored   # two of the four

Per seed, the four modes run back to back on one shared supernet (equal training), each on a
fresh latency cache (so every count is of real measurements) and with the same population and
generations (equal numbers of accuracy evaluations):
- measure-all: screen_factor 1, every evaluated architecture measured;
- screened: the default (4x the population proposed, the best screened by the device's learned
  predictor and the accuracy surrogate, the chosen ones measured);
- predicted: the GA prices every architecture with the predictor, measuring only each
  generation's front (and the final front until no member is only predicted); on a fresh
  cache its first generation is measured, to fit the predictor;
- predicted-stored: the same on a cache that holds only a predictor fitted beforehand (as
  `edgeprune predictor fit` does once per board and model, `fit_n` random architectures: a
  one-time cost reported apart, not counted in the search's measurements).
Quality of a front, judged on its measured latencies only (the front as the product reports
it: members below search.front_floor are left off in every mode): the hypervolume of (search estimate
error, p50 / the baseline's p50 from the same search) with reference point (1, 1), and the
fastest member whose estimate is within `recover.candidate_gap` of the baseline (the first
architecture the finish would recover). Latencies are normalised within each search because
the host's speed moves between searches.

Each search's own measurements of its front were taken minutes apart from the other modes', on a
host whose level moves by 20-50% for a while (the same architecture measured 0.79x and 1.18x its
prediction in two seeds): so, after a seed's modes ran, every mode's front is measured again,
all together, in `rounds` interleaved passes with the unpruned model timed beside every ten
(predictor/profiling.measure_genomes), and judged a second time on those latencies ("re-measured"
in the summary): the comparison of architectures, not of the moments they were measured at. How
often the passes agree within 10% (the device's repeatability then) is kept beside each cell.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import time

from bench import quality_methods as qm
from bench.common import (cells_left_out, device_facts, git_commit, load_bench_inputs, work_dir,
                          write_result)
from bench.search_quality import base_config, profile_for
from pipeline.progress import status

MODES = {"measure-all": {"latency_source": "device", "screen_factor": 1},   # search.* settings
         "screened": {"latency_source": "device"},
         "predicted": {"latency_source": "predicted"},
         # the same, on a board whose predictor `edgeprune predictor fit` made once beforehand
         "predicted-stored": {"latency_source": "predicted"}}
STORED = "predicted-stored"
# 8 generations: the product's default (edgeprune run)
FULL = {"models": ["resnet20"], "profiles": ["host-ort"], "population": 12, "generations": 8,
        "train_epochs": None, "measure": {}, "seeds": [0, 1, 2], "fit_n": 200, "rounds": 3,
        "fit_min_keep": 0.0}   # the fit draws down to one channel per group, as the search goes
SMOKE = {**FULL, "models": ["resnet20-tiny"], "population": 4, "generations": 3, "fit_n": 10,
         "rounds": 2,
         "train_epochs": 1, "supernet_epochs": 1, "seeds": [0],
         "measure": {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 5, "min_time_s": 0.0,
                     "drift_every": 0}}


def front_quality(front: list, baseline: dict, gap: float) -> dict:
    """Hypervolume and fastest-within-gap of a front whose latencies are all measured."""
    base = baseline["latency"]
    out = quality([(e.accuracy, e.latency_objective() / base, e.channels != baseline["channels"])
                   for e in front], baseline["accuracy"], gap)
    out["members"] = [{"channels": dict(e.channels), "accuracy": e.accuracy,
                       "pruned": e.channels != baseline["channels"]} for e in front]
    return out


def quality(points: list, base_acc: float, gap: float) -> dict:
    """points: (accuracy estimate, p50 / the baseline's, pruned?) per front member."""
    import numpy as np
    from pymoo.indicators.hv import HV

    pts = [(1.0 - acc, ratio) for acc, ratio, _ in points]
    hv = float(HV(ref_point=np.array([1.0, 1.0]))(np.array(pts))) if pts else 0.0
    near = [ratio for acc, ratio, pruned in points if acc >= base_acc - gap and pruned]
    return {"hypervolume": hv, "fastest_within_gap": min(near) if near else None,
            "front": [{"error": e, "latency_ratio": r} for e, r in pts]}


def remeasure(cell: dict, profile_name: str, s: dict, inputs, base_acc: float, gap: float,
              folder) -> dict:
    """Every mode's front measured again, together: `rounds` passes over the union of the
    fronts, each latency relative to the unpruned model timed beside it. Adds "remeasured"
    (hypervolume, fastest within gap) to each mode's row; returns the device's repeatability."""
    import torch

    from pipeline.devices import open_device
    from pipeline.predictor.profiling import measure_genomes, repeatability
    from pipeline.search.records import genome_key

    splits, base_model, _ = inputs
    genomes = {genome_key(m["channels"]): m["channels"]
               for row in cell.values() for m in row["members"]}
    status(f"re-measuring {len(genomes)} front members of {len(cell)} modes together, "
           f"{s['rounds']} passes")
    shutil.rmtree(folder, ignore_errors=True)
    with open_device(profile_for(profile_name, s)) as device:
        samples, _ = measure_genomes(base_model, torch.zeros(splits.input_shape),
                                     list(genomes.values()), device, folder, passes=s["rounds"])
    ratio = {genome_key(x.channels): x.latency_ms / x.reference_ms for x in samples}
    for row in cell.values():
        row["remeasured"] = quality([(m["accuracy"], ratio[genome_key(m["channels"])],
                                      m["pruned"]) for m in row["members"]], base_acc, gap)
    return {"architectures": len(samples), "passes": s["rounds"],
            **(repeatability(samples) or {})}


def fit_predictor(profile_name: str, s: dict, inputs, folder) -> dict:
    """A predictor fitted once for the model on this device, as `edgeprune predictor fit` does
    (latency does not depend on the weights, so one serves every seed): its stored row."""
    import torch

    from pipeline.devices import MeasurementCache, open_device
    from pipeline.predictor.session import fit_on_device, predictor_key
    from pipeline.prune import SearchSpace

    splits, base_model, _ = inputs
    example = torch.zeros(splits.input_shape)
    space = SearchSpace.from_model(base_model, example, round_to=1)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fit.sqlite").unlink(missing_ok=True)
    cache = MeasurementCache(folder / "fit.sqlite")
    with open_device(profile_for(profile_name, s), cache=cache) as device:
        _, report = fit_on_device(base_model, space, example, device, cache, folder / "fit",
                                  s["fit_n"], seed=0, min_keep=s["fit_min_keep"],
                                  fresh=True)
        _, key = predictor_key(base_model, space, example, device)
    row = cache.get_predictor(key.digest())
    cache.close()
    status(f"[fit] {report.measured} measurements, {report.seconds:.0f} s")
    return {"digest": key.digest(), "profile": key.profile, "data": row,
            "measurements": report.measured, "seconds": report.seconds}


def run_mode(mode: str, cfg, profile_name: str, s: dict, inputs, supernet_dir, folder,
             stored: dict | None = None) -> dict:
    import copy
    import json

    from pipeline.devices import MeasurementCache, open_device
    from pipeline.run import StageClock
    from pipeline.search_stage import run_search_stage

    cfg = copy.deepcopy(cfg)
    for key, value in MODES[mode].items():
        setattr(cfg.search, key, value)
    splits, base_model, base_info = inputs
    run_dir = folder / mode
    shutil.rmtree(run_dir, ignore_errors=True)   # a folder with evaluations would be resumed
    run_dir.mkdir(parents=True)
    if supernet_dir is not None:
        shutil.copytree(supernet_dir, run_dir / "supernet")
    (folder / f"{mode}.sqlite").unlink(missing_ok=True)   # fresh: every measurement is real
    cache = MeasurementCache(folder / f"{mode}.sqlite")
    if mode == STORED:   # nothing measured in this cache: only the predictor fitted before
        cache.put_predictor(stored["digest"], stored["profile"], stored["data"])
    start = time.perf_counter()
    profile = profile_for(profile_name, s)
    with open_device(profile, cache=cache) as device:
        search = run_search_stage(cfg, profile, device, base_model, base_info, splits, run_dir,
                                  StageClock())
    wall_s = time.perf_counter() - start
    cache.close()
    pareto = json.loads((run_dir / "pareto.json").read_text())
    c = pareto["counters"]
    assert all(e.latency_ms for e in search["front"]), "a front member was left unmeasured"
    out = {"wall_s": wall_s, "measurements": c["measured"] + c["cached"],
           "evaluated": c["evaluated"], "predicted": c.get("predicted", 0),
           "front_size": len(search["front"]),
           "baseline_accuracy": search["baseline"]["accuracy"],
           "left_off_below_floor": pareto["front_floor"]["left_off"],
           **front_quality(search["front"], search["baseline"], cfg.recover.candidate_gap)}
    status(f"[{mode}] {out['measurements']} measurements for {out['evaluated']} architectures, "
           f"hypervolume {out['hypervolume']:.4f}, fastest within the finish's gap "
           f"{out['fastest_within_gap']}")
    return out


def summarise(cells: dict) -> dict:
    """Per (model, profile, mode): medians over seeds, and each mode against measure-all."""
    def med(xs):
        return statistics.median(xs) if xs else None

    out = {}
    for model, profiles in cells.items():
        for profile, seeds in profiles.items():
            rows = {}
            for mode in [m for m in MODES if all(m in cell for cell in seeds.values())]:
                runs = [seeds[seed][mode] for seed in seeds]
                ref = [seeds[seed]["measure-all"] for seed in seeds]
                fast = [r["fastest_within_gap"] for r in runs if r["fastest_within_gap"]]
                rows[mode] = {
                    "measurements_median": med([r["measurements"] for r in runs]),
                    "hypervolume_median": med([r["hypervolume"] for r in runs]),
                    "hypervolume_range": [min(r["hypervolume"] for r in runs),
                                          max(r["hypervolume"] for r in runs)],
                    "fastest_within_gap_median": med(fast),
                    # the reported front and the members its floor left off (runs before
                    # search.front_floor recorded neither)
                    "front_size_median": med([r["front_size"] for r in runs
                                              if "front_size" in r]),
                    "left_off_median": med([r["left_off_below_floor"] for r in runs
                                            if "left_off_below_floor" in r]),
                    "fewer_measurements_than_all": med([a["measurements"] / r["measurements"]
                                                        for r, a in zip(runs, ref)]),
                    "hypervolume_vs_all": med([r["hypervolume"] / a["hypervolume"]
                                               for r, a in zip(runs, ref) if a["hypervolume"]]),
                }
                if all("remeasured" in r for r in runs + ref):   # runs before it had none
                    again = [(r["remeasured"], a["remeasured"]) for r, a in zip(runs, ref)]
                    rows[mode]["remeasured"] = {
                        "hypervolume_median": med([r["hypervolume"] for r, _ in again]),
                        "hypervolume_vs_all": med([r["hypervolume"] / a["hypervolume"]
                                                   for r, a in again if a["hypervolume"]]),
                        "fastest_within_gap_median": med([r["fastest_within_gap"]
                                                          for r, _ in again
                                                          if r["fastest_within_gap"]])}
            out.setdefault(model, {})[profile] = rows
    return out


def kept_cells(smoke: bool, models, profiles) -> tuple[dict, dict, dict]:
    """When only some models / profiles run: the last result's other cells (model, profile),
    each with the commit it was measured at, its search size and its predictor's fit."""
    cells, commits, last = cells_left_out("screened_search", smoke, models, profiles)
    size = {k: last.get("config", {}).get(k) for k in ("population", "generations")}
    commits = {cell: {**size, **c} for cell, c in commits.items()}
    fits = {k: f for k, f in last.get("predictor_fit", {}).items() if k in commits}
    return cells, commits, fits


def run(smoke: bool, seeds=None, profiles=None, models=None, modes=None) -> dict:
    s = dict(SMOKE if smoke else FULL)
    s.update({k: v for k, v in (("seeds", seeds), ("profiles", profiles), ("models", models),
                                ("modes", modes)) if v})
    modes = [m for m in MODES if m in s.get("modes", MODES)]
    if "measure-all" not in modes:
        raise SystemExit("--modes must include measure-all: every mode is judged against it")
    kept, commits, kept_fits = kept_cells(smoke, models, profiles)
    cells: dict = {}
    devices, fits = [], {}
    start = time.perf_counter()
    for model in s["models"]:
        for seed in s["seeds"]:
            cfg = base_config(model, dict(s, seed=seed))
            inputs = load_bench_inputs(cfg)
            folder = work_dir(smoke, f"screened_search/{model.replace(':', '_')}-s{seed}")
            supernet, supernet_dir = qm.shared_supernet(cfg, inputs, folder / "shared")
            for profile in s["profiles"]:
                if STORED in modes and (model, profile) not in fits:
                    status(f"[{model} / {profile}] fitting the stored predictor")
                    fits[model, profile] = fit_predictor(profile, s, inputs,
                                                         folder.parent / f"fit-{profile}")
                # The order rotates with the seed, so no mode always runs in the same phase.
                k = seed % len(modes)
                order = modes[k:] + modes[:k]
                cell = {}
                for mode in order:
                    status(f"[{model} / {profile} / seed {seed}] {mode}")
                    cell[mode] = run_mode(mode, cfg, profile, s, inputs, supernet_dir,
                                          folder / profile, fits.get((model, profile)))
                base_acc = cell["measure-all"]["baseline_accuracy"]
                cell["repeatability"] = remeasure(cell, profile, s, inputs, base_acc,
                                                  cfg.recover.candidate_gap,
                                                  folder / profile / "remeasured")
                cells.setdefault(model, {}).setdefault(profile, {})[seed] = cell
                commits[f"{model} / {profile}"] = {
                    "git_commit": git_commit(), "population": s["population"],
                    "generations": s["generations"],
                    "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                if seed == s["seeds"][0] and model == s["models"][0]:
                    devices.append(device_facts(profile_for(profile, s)))
            every = {m: {**kept.get(m, {}), **cells.get(m, {})} for m in {*kept, *cells}}
            summary = summarise(every)
            path = write_result("screened_search", smoke, {
                "cells": every, "summary": summary, "modes": MODES, "cell_commits": commits,
                "predictor_fit": {**kept_fits, **{f"{m} / {p}": {k: v for k, v in f.items()
                                                                 if k != "data"}
                                                  for (m, p), f in fits.items()}},
                "wall_s": time.perf_counter() - start}, config=s, seed=s["seeds"][0],
                devices=devices)
    status(f"written: {path}")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="*")
    parser.add_argument("--profiles", nargs="*")
    parser.add_argument("--models", nargs="*")
    parser.add_argument("--modes", nargs="*", choices=list(MODES),
                        help="run only these modes (measure-all is always needed)")
    args = parser.parse_args(argv)
    summary = run(args.smoke, args.seeds, args.profiles, args.models, args.modes)
    for model, profiles in summary.items():
        for profile, rows in profiles.items():
            for mode, r in rows.items():
                print(f"{model:<10} {profile:<12} {mode:<12} measurements "
                      f"{r['measurements_median']}, hypervolume {r['hypervolume_median']:.4f} "
                      f"({r['hypervolume_vs_all']:.3f} of measure-all), "
                      f"{r['fewer_measurements_than_all']:.1f}x fewer measurements"
                      + (f"; re-measured {again['hypervolume_vs_all']:.3f} of measure-all"
                         if (again := r.get("remeasured")) else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
