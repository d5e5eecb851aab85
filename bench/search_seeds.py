"""Search quality over seeds and data sets (issue 12): where accuracy binds, does the search win?

    python -m bench.search_seeds --data fashion-mnist              # 3 seeds, 2 models, 2 profiles
    python -m bench.search_seeds --data fashion-mnist --seeds 0 --models resnet20 --profiles host-ort
    python -m bench.search_seeds --data fashion-mnist-val5k    # the finish judged on 5,000 val images
    python -m bench.search_seeds --smoke
    python -m bench.search_seeds --data fashion-mnist-val5k --latency-ga search.coarse_generations=3

A run with --latency-ga overrides (the latency GA's variant under test; every other method as
always) writes a result of its own, search_seeds_<data>__<overrides>.json.

A run of some models, profiles or seeds adds its cells to the last result of the same settings
(bench/results/search_seeds_<data>.json); the others stay, each with the commit it was
measured at, which the README names.

Each (seed, model) runs bench/search_quality.py's comparison (every method at equal device
measurements and training steps, every candidate through the same finish line). Per
(model, profile, method) the result holds, over seeds: the median and range of the fastest
file within 1 point (test split), and the best test accuracy at a fixed latency budget
(BUDGET_FRACTION of the baseline's p50); and the latency GA's ratio to each other method.
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

from bench import search_quality as sq
from bench.common import git_commit, ratio_over_rounds, read_result, write_result
from pipeline.progress import status

BUDGET_FRACTION = 0.3
# In the order bench/README.md shows them: where accuracy binds first.
DATA = {# 2 cores cannot afford 70,000 images per search: a stratified, seeded subset.
        "fashion-mnist": ["data.name=fashion-mnist", "data.image_size=28", "data.limit=6000"],
        # The same subset trains and tests, but the finish's 1-point line is judged on 5,000
        # validation images the subset leaves unused (one standard error ~0.45 points at 89%,
        # not the ~1.1 of the 965 carved from it); the search's own estimates keep ~1,000.
        "fashion-mnist-val5k": ["data.name=fashion-mnist", "data.image_size=28", "data.limit=6000",
                                "data.val_images=5000", "search.val_subset=1000"],
        "digits": []}


def budget_accuracy(points: list[dict], base_p50: float) -> float | None:
    ok = [p["accuracy_test"] for p in points if p["latency_ms"]["p50"] <= BUDGET_FRACTION * base_p50]
    return max(ok) if ok else None


def latency_at_macs(cell: dict):
    """file -> its p50 over what a straight line of p50 on MACs, fitted to every file measured
    in this (seed, model, profile), gives at its MACs; None without MACs or enough files.

    Time per MAC alone would count the fixed per-layer cost against the smaller file; the
    line's intercept holds it, so 0.9 reads "10% faster than a typical file of its MACs"."""
    import numpy as np

    files = {f["key"]: (f["macs"], f["latency_ms"]["p50"]) for m in cell["methods"].values()
             for f in m["points"] + [m["best_within_1pt"] or {}] if f.get("macs")}
    if len(files) < 3 or len({macs for macs, _ in files.values()}) < 2:
        return lambda f: None
    slope, intercept = np.polyfit(*zip(*files.values()), 1)

    def ratio(f: dict) -> float | None:
        fitted = intercept + slope * f["macs"] if f.get("macs") else 0
        return f["latency_ms"]["p50"] / fitted if fitted > 0 else None
    return ratio


def aggregate(per_seed: dict) -> dict:
    """{model: {profile: {method: {...over seeds...}}}} from {seed: {model: bench_model()}}.

    A seed where a method kept no file within 1 point counts as the unpruned model (what its
    user would ship: speedup 1), not as a missing value: a median over the seeds that did
    keep one would flatter a method that often keeps none. `within` counts the seeds that did."""
    out: dict = {}
    for seed, models in per_seed.items():
        for model, r in models.items():
            for profile, sc in r["profiles"].items():
                base = sc["baseline"]["latency_ms"]["p50"]
                unpruned = {"latency_ms": sc["baseline"]["latency_ms"], "speedup": 1.0}
                ours = sc["methods"]["latency-ga"]["best_within_1pt"] or unpruned
                at_macs = latency_at_macs(sc)
                for method, m in sc["methods"].items():
                    cell = out.setdefault(model, {}).setdefault(profile, {}).setdefault(
                        method, {"fastest_p50": [], "speedup": [], "budget_accuracy": [],
                                 "ga_over_this": [], "macs": [], "ga_macs_over_this": [],
                                 "ga_device_over_this": [], "seeds": [], "within": 0})
                    best = m["best_within_1pt"]
                    cell["seeds"].append(seed)
                    cell["within"] += best is not None
                    best = best or unpruned
                    cell["fastest_p50"].append(best["latency_ms"]["p50"])
                    cell["speedup"].append(best["speedup"])
                    cell["budget_accuracy"].append(budget_accuracy(m["points"], base))
                    cell["ga_over_this"].append(
                        ratio_over_rounds(ours["latency_ms"], best["latency_ms"])["median"])
                    # MACs split a latency ratio into the accuracy side (how far each search
                    # could cut and stay within the line) and the device side (how fast each
                    # file runs for its MACs)
                    cell["macs"].append(best.get("macs"))
                    mine, theirs = at_macs(ours), at_macs(best)
                    both = mine is not None and theirs is not None
                    cell["ga_macs_over_this"].append(ours["macs"] / best["macs"] if both else None)
                    cell["ga_device_over_this"].append(mine / theirs if both else None)
    for model in out.values():
        for profile in model.values():
            for cell in profile.values():
                for key in ("fastest_p50", "speedup", "budget_accuracy", "ga_over_this", "macs",
                            "ga_macs_over_this", "ga_device_over_this"):
                    vals = [v for v in cell[key] if v is not None]
                    cell[f"{key}_median"] = statistics.median(vals) if vals else None
                    cell[f"{key}_range"] = [min(vals), max(vals)] if vals else None
    return out


# Where accuracy binds, 100 KD steps leave every method's file more than a point below the
# baseline (Fashion-MNIST, seed 0: the best within 1.2 points was all but unpruned), so
# "fastest within 1 point" has nothing to compare: its recovery gets ~9 epochs of the subset (65 steps an epoch).
RECOVER_STEPS = {"fashion-mnist": 600, "fashion-mnist-val5k": 600}
# Where accuracy binds, the fastest file within 1 point sits high on each front, at a place no
# fixed spread finds (seed 1 of the spread rule: a 0.231 ms member within the line went unpicked
# for 0.133 / 0.282 / 0.428 ms): each search method's front is bisected for the line with 3
# recoveries, as the product's finish does; and every file is judged on the whole official test
# part (10,000 images, not the subset's 857, whose standard error at 89% is a full point).
BINDING = {"per_method": 3, "pick": "bisect", "full_test": True}
# Digits takes the same finish (the product's): its 3-seed cells then answer the same question
# the Fashion-MNIST ones do, "what does each method's front give when bisected for the line".
FINISH = {"fashion-mnist": BINDING, "fashion-mnist-val5k": BINDING, "digits": BINDING}


def settings(data: str, smoke: bool, models=None, profiles=None,
             recover_steps: int | None = None, latency_ga: list[str] = ()) -> dict:
    """The search bench's settings for `data`, with the command line's choices applied."""
    s = dict(sq.SMOKE if smoke else sq.FULL, data_overrides=DATA[data],
             latency_ga_overrides=list(latency_ga))
    if not smoke:
        s["recover_steps"] = recover_steps or RECOVER_STEPS.get(data, s["recover_steps"])
        s.update(FINISH.get(data, {}))
    if models:
        s["models"] = models
    if profiles:
        s["profiles"] = profiles
    return s


# Settings two runs must share for their cells to sit in one table.
COMPARABLE = ("data_overrides", "population", "generations", "recover_steps", "rounds",
              "per_method", "pick", "full_test", "latency_ga_overrides")


def result_name(data: str, latency_ga: list[str] = ()) -> str:
    """search_seeds_<data>, and __<overrides> for a variant of the latency GA."""
    name = f"search_seeds_{data.replace('-', '_')}"
    if latency_ga:
        name += "__" + "_".join(re.sub(r"[^A-Za-z0-9]+", "_", o.removeprefix("search."))
                                for o in latency_ga)
    return name


def kept_cells(last: dict | None, s: dict, seeds: list[int]) -> dict:
    """The cells of the last result this run does not redo (other models, profiles or seeds),
    each stamped with the commit and time it was measured at; none if the settings differ.

    A cell is a (seed, model, profile); the grid takes hours on 2 cores, so a run of one model
    or one profile adds to the table instead of replacing it."""
    if not last:
        return {}
    # results from before the latency GA could be varied ran it as the product does: no overrides
    was, now = ({"latency_ga_overrides": [], **c} for c in (last.get("config", {}), s))
    if any(was.get(k) != now.get(k) for k in COMPARABLE):
        status("search_seeds: the last result ran other settings; its cells are not kept")
        return {}
    kept: dict = {}
    for seed, models in last["per_seed"].items():
        for model, r in models.items():
            for profile, sc in r["profiles"].items():
                if int(seed) in seeds and model in s["models"] and profile in s["profiles"]:
                    continue   # redone now
                sc.setdefault("git_commit", last.get("git_commit", ""))
                sc.setdefault("finished_utc", last.get("finished_utc", ""))
                cell = kept.setdefault(int(seed), {}).setdefault(model, {**r, "profiles": {}})
                cell["profiles"][profile] = sc
    return kept


def merged(per_seed: dict, kept: dict) -> dict:
    """This run's cells with the kept ones added where this run has none."""
    out = {seed: {model: {**r, "profiles": dict(r["profiles"])} for model, r in models.items()}
           for seed, models in per_seed.items()}
    for seed, models in kept.items():
        for model, r in models.items():
            mine = out.setdefault(seed, {}).setdefault(model, {**r, "profiles": {}})
            for profile, sc in r["profiles"].items():
                mine["profiles"].setdefault(profile, sc)
    return out


def run(data: str, seeds: list[int], smoke: bool, models=None, profiles=None,
        recover_steps: int | None = None, latency_ga: list[str] = ()) -> dict:
    s = settings(data, smoke, models, profiles, recover_steps, latency_ga)
    name = result_name(data, latency_ga)
    kept = kept_cells(read_result(name, smoke), s, seeds) if (models or profiles) else {}
    start = time.perf_counter()
    per_seed: dict = {}
    everything = kept
    for seed in seeds:
        s.update(seed=seed, tag=f"{data}-s{seed}-")
        for model in s["models"]:
            began = time.perf_counter()
            per_seed.setdefault(seed, {})[model] = sq.bench_model(model, s, smoke)
            per_seed[seed][model].pop("devices", None)
            per_seed[seed][model]["wall_s"] = time.perf_counter() - began
            for sc in per_seed[seed][model]["profiles"].values():
                sc["git_commit"] = git_commit()
                sc["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            everything = merged(per_seed, kept)
            path = write_result(name, smoke, {
                "data": data, "per_seed": everything, "summary": aggregate(everything),
                "budget_fraction": BUDGET_FRACTION, "wall_s": time.perf_counter() - start},
                config={**s, "search_overrides": sq.SEARCH_OVERRIDES}, seed=seeds[0], devices=[])
    status(f"written: {path}")
    return aggregate(everything)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--data", choices=sorted(DATA), default="fashion-mnist")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--models", nargs="*")
    parser.add_argument("--profiles", nargs="*")
    parser.add_argument("--recover-steps", type=int, help="KD steps of each candidate's recovery")
    parser.add_argument("--latency-ga", nargs="*", default=[], metavar="KEY=VALUE",
                        help="config overrides of the latency GA alone (a variant under test)")
    args = parser.parse_args(argv)
    if args.latency_ga:   # a typo fails here, in one line, not after an hour of baselines
        from pipeline.config import load_config
        from pipeline.errors import UserError

        try:
            load_config(overrides=args.latency_ga)
        except UserError as exc:
            parser.error(f"--latency-ga: {exc}")
    summary = run(args.data, args.seeds, args.smoke, args.models, args.profiles,
                  args.recover_steps, args.latency_ga)
    for model, profiles in summary.items():
        for profile, methods in profiles.items():
            for method, c in methods.items():
                p50 = c["fastest_p50_median"]
                print(f"{model:<28} {profile:<12} {method:<20} fastest<=1pt "
                      f"{'-' if p50 is None else f'{p50:.3f} ms'} {c['fastest_p50_range']}, "
                      f"GA/this {c['ga_over_this_median']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
