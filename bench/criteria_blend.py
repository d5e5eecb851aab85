"""Blended importance criteria against each single criterion, after the same recovery.

    python -m bench.criteria_blend                          # digits, resnet20, 3 seeds (~10 min)
    python -m bench.criteria_blend --data fashion-mnist --models resnet20 \
        bench.models:mobilenetv2_lite   # the 6,000-image subset of bench.search_seeds
    python -m bench.criteria_blend --winners runs/X         # also at a run's GA winners
    python -m bench.criteria_blend --data fashion-mnist --models resnet20 bench.models:mobilenetv2_lite \
        --winners resnet20=runs/A bench.models:mobilenetv2_lite=runs/B   # one run per model
    python -m bench.criteria_blend --smoke                  # tiny; checks the code path only

For every seed: the blend is searched (agreement -> clusters -> pymoo GA on step-1 accuracy at
the target architectures), then each single criterion and the blend prune the same trained
baseline to the same architectures (uniform keeps), and every pruned model gets the same
recovery (BN re-calibration, then a fixed number of KD steps, seeded). Accuracy is top-1 on the
test split, which neither the blend search nor the recovery sees. The baseline is trained once
(seed 0, cached); the seed varies the calibration batches, the blend search and the recovery.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.checkpoint import SeedCheckpoint
from bench.common import load_bench_inputs, work_dir, write_result
from pipeline.progress import status

SINGLES = ["l1", "l2", "fpgm", "bn", "taylor"]
# Sized for ~10 minutes on a quiet 2-core machine (resnet20 on digits): 36 recoveries of 40 KD
# steps (about 2 epochs of digits, ~0.2 s a step) and 3 blend searches of <= 18 candidates.
FULL = {"models": ["resnet20"], "seeds": [0, 1, 2], "keeps": [0.5, 0.3], "recover_steps": 40,
        "train_epochs": None, "image_size": 32,
        "criteria": {"population": 6, "generations": 3, "val_subset": 128}}
# Smoke proves the code path works; its figures mean nothing (1-epoch baseline, 3 KD steps).
# Fashion-MNIST's pruned models start far lower than digits' (a 0.3 keep loses ~30 points), so
# 40 KD steps would compare criteria on barely recovered models; 100 is what the search bench
# first used, and keeps 2 models x 3 seeds x 3 targets x 6 importances within about an hour.
RECOVER_STEPS = {"fashion-mnist": 100}
SMOKE = {**FULL, "models": ["resnet20-tiny"], "seeds": [0], "keeps": [0.5], "recover_steps": 3,
         "train_epochs": 1, "image_size": 8,
         "criteria": {"population": 4, "generations": 1, "val_subset": 120}}


def base_config(model: str, s: dict, data: str, data_path: str = ""):
    from pipeline.config import load_config

    overrides = [f"model.name={model}", f"data.name={data}", f"data.image_size={s['image_size']}",
                 f"criteria.keeps={','.join(str(k) for k in s['keeps'])}",
                 *(f"criteria.{k}={v}" for k, v in s["criteria"].items())]
    if data_path:
        overrides.append(f"data.path={data_path}")
    from bench.search_seeds import DATA

    # The data sets of the search bench, at its sizes: the same cached baseline for both.
    overrides += DATA.get(data, [])
    if s["train_epochs"]:
        overrides.append(f"train.epochs={s['train_epochs']}")
    return load_config(overrides=overrides)


def winner_targets(run_dir: str, space) -> dict:
    """{winner-<reason>: channels} of a run folder's main winner (manifest.json, read as data):
    the first of the finish's winner names present (fastest within 1 point, else the most
    accurate tried, else the knee), the architecture a user of that run would deploy."""
    import json
    from pathlib import Path

    from pipeline.errors import UserError
    from pipeline.finish import WINNER_NAMES

    for reason in WINNER_NAMES:
        path = Path(run_dir) / "winners" / reason / "manifest.json"
        if path.is_file():
            channels = json.loads(path.read_text()).get("channels")
            space.validate(channels)
            return {f"winner-{reason}": {k: int(v) for k, v in channels.items()}}
    raise UserError(f"'{run_dir}' has no winners/*/manifest.json; pass a finished run folder")


def _recovered_accuracy(base_model, splits, genome, importance, batches, recover_cfg, steps, seed):
    import torch

    from pipeline.prune import apply_genome
    from pipeline.recover import distill, evaluate, recalibrate_bn

    torch.manual_seed(seed)
    example = torch.zeros(splits.input_shape)
    student = apply_genome(base_model, genome, example, importance=importance, batches=batches)
    recalibrate_bn(student, [x for x, _ in batches])
    model, _ = distill(student, base_model, splits, recover_cfg, seed, max_steps=steps)
    model.eval()
    return float(evaluate(model, splits.x_test, splits.y_test))


def winners_per_model(winners: list[str], models: list[str]) -> dict:
    """{model: run folder} from `--winners` values: MODEL=RUN_DIR, or a bare RUN_DIR when only
    one model is benched."""
    from pipeline.errors import UserError

    out = {}
    for item in winners or []:
        model, sep, run_dir = item.rpartition("=")
        if not sep:
            if len(models) != 1:
                raise UserError(f"--winners '{item}': with several --models, write "
                                "MODEL=RUN_DIR (the run that pruned that model)")
            model, run_dir = models[0], item
        if model not in models:
            raise UserError(f"--winners '{item}': '{model}' is not among --models "
                            f"({', '.join(models)})")
        out[model] = run_dir
    return out


def _bench_seed(base_model, splits, space, cfg, s, targets, extra, seed, model) -> dict:
    """One seed: the blend search, then every importance recovered at every target."""
    from pipeline.criteria.study import run_study
    from pipeline.search.fitness import calibration_batches

    batches = calibration_batches(splits, cfg.search.calib_batches, seed)
    study = run_study(base_model, splits, space, cfg.criteria, batches, seed, extra)
    entry = {"study": {"seed": seed, "blend": study.blend, "clusters": study.clusters,
                       "matrix": study.matrix, "fitness": study.fitness,
                       "holdout": study.holdout, "study_s": study.seconds,
                       "search_s": study.search_seconds,
                       "search_evaluations": study.search_evaluations},
             "runs": [], "recover_s": 0.0}
    for label, genome in targets.items():
        for name in SINGLES + ["blend"]:
            importance = study.chosen() if name == "blend" else name
            start = time.perf_counter()
            acc = _recovered_accuracy(base_model, splits, genome, importance, batches,
                                      cfg.recover, s["recover_steps"], seed)
            entry["recover_s"] += time.perf_counter() - start
            entry["runs"].append({"seed": seed, "target": label, "importance": name,
                                  "accuracy_test": acc})
            status(f"criteria bench {model} seed {seed} {label} {name}: test {100 * acc:.2f}%")
    return entry


def bench_model(model: str, s: dict, data: str, data_path: str, checkpoint: SeedCheckpoint,
                winners: str = "") -> dict:
    import torch

    from pipeline.prune import SearchSpace

    cfg = base_config(model, s, data, data_path)
    splits, base_model, info = load_bench_inputs(cfg)
    example = torch.zeros(splits.input_shape)
    space = SearchSpace.from_model(base_model, example, round_to=1)
    extra = winner_targets(winners, space) if winners else {}
    targets = {**{f"uniform-{k:g}": space.uniform(k) for k in s["keeps"]}, **extra}
    runs, studies, recover_s = [], [], 0.0
    key = {"model": model, "data": data, "settings": s, "targets": targets}
    done = checkpoint.done(key)
    for seed in s["seeds"]:
        if seed in done:  # finished before an interruption: its figures are kept, not redone
            entry = done[seed]
            status(f"criteria bench {model} seed {seed}: kept from the checkpoint")
        else:
            entry = _bench_seed(base_model, splits, space, cfg, s, targets, extra, seed, model)
            checkpoint.add(key, seed, entry)
        studies.append(entry["study"])
        runs += entry["runs"]
        recover_s += entry["recover_s"]
    return {"baseline": {"accuracy_test": info["accuracy_test"], "training": info.get("training")},
            "targets": targets, "runs": runs, "studies": studies,
            "summary": summarise(runs, list(targets)),
            "cost": {"blend_study_s": [st["study_s"] for st in studies],
                     "blend_search_s": [st["search_s"] for st in studies],
                     "blend_search_evaluations": [st["search_evaluations"] for st in studies],
                     "recover_s_per_model": recover_s / max(1, len(runs))}}


def summarise(runs: list[dict], targets: list[str]) -> dict:
    """Per target and importance: median, min, max over seeds; the blend against the best
    single criterion (by median), per seed: blend minus that criterion, in points. A tie: the
    median difference is within half the spread of the per-seed differences (at least 0.1
    point), i.e. the seeds do not agree on a winner."""
    out = {}
    for target in targets:
        rows = {}
        for name in SINGLES + ["blend"]:
            accs = [r["accuracy_test"] for r in runs if r["target"] == target
                    and r["importance"] == name]
            rows[name] = {"median": statistics.median(accs), "min": min(accs), "max": max(accs),
                          "n": len(accs)}
        best = max(SINGLES, key=lambda n: rows[n]["median"])
        diffs = [100 * (b["accuracy_test"] - o["accuracy_test"])
                 for b in runs if b["target"] == target and b["importance"] == "blend"
                 for o in runs if o["target"] == target and o["importance"] == best
                 and o["seed"] == b["seed"]]
        median_diff = statistics.median(diffs)
        spread = max(diffs) - min(diffs)
        verdict = ("tie" if abs(median_diff) <= max(spread / 2, 0.1)
                   else "blend wins" if median_diff > 0 else "blend loses")
        out[target] = {"rows": rows, "best_single": best,
                       "blend_minus_best_points": {"median": median_diff, "min": min(diffs),
                                                   "max": max(diffs)},
                       "verdict": verdict}
    return out


def format_summary(result: dict) -> str:
    lines = []
    for model, r in result["models"].items():
        for target, t in r["summary"].items():
            lines.append(f"{model} {target} (test accuracy, median [min-max] over "
                         f"{t['rows']['blend']['n']} seeds):")
            for name, row in t["rows"].items():
                lines.append(f"  {name:<7} {100 * row['median']:6.2f}% "
                             f"[{100 * row['min']:.2f}-{100 * row['max']:.2f}]")
            d = t["blend_minus_best_points"]
            lines.append(f"  blend - {t['best_single']} (best single): {d['median']:+.2f} points "
                         f"[{d['min']:+.2f}, {d['max']:+.2f}] -> {t['verdict']}")
        c = r["cost"]
        lines.append(f"{model} blend search cost: {statistics.median(c['blend_study_s']):.1f} s per "
                     f"seed ({statistics.median(c['blend_search_evaluations']):.0f} pruned models "
                     f"scored); one recovery {c['recover_s_per_model']:.1f} s")
    return "\n".join(lines)


def settings(smoke: bool, data: str, models=None, seeds: int | None = None,
             recover_steps: int | None = None) -> dict:
    """The bench's settings for `data`, with the command line's choices applied."""
    s = dict(SMOKE if smoke else FULL)
    if not smoke:
        s["recover_steps"] = recover_steps or RECOVER_STEPS.get(data, s["recover_steps"])
    if models:
        s["models"] = list(models)
    if seeds:
        s["seeds"] = list(range(seeds))
    return s


def run(smoke: bool, data: str = "digits", data_path: str = "", models=None, seeds=None,
        winners: list[str] | None = None, recover_steps: int | None = None) -> dict:
    s = settings(smoke, data, models, seeds, recover_steps)
    start = time.perf_counter()
    runs = winners_per_model(winners or [], s["models"])
    # An interrupted bench (an hour on Fashion-MNIST) resumes at the first unfinished seed.
    checkpoint = SeedCheckpoint(work_dir(smoke, "checkpoints") / f"{result_name(data)}.jsonl")
    result = {"data": data, "models": {m: bench_model(m, s, data, data_path, checkpoint,
                                                      runs.get(m, ""))
                                       for m in s["models"]}}
    result["wall_s"] = time.perf_counter() - start
    from bench.search_seeds import DATA

    config = {**s, "data": data, "data_overrides": DATA.get(data, [])}
    write_result(result_name(data), smoke, result, config=config, seed=s["seeds"][0], devices=[])
    status(format_summary(result))
    return result


def result_name(data: str) -> str:
    """digits keeps the first name this bench had; other data sets get their own file."""
    return "criteria_blend" if data == "digits" else f"criteria_blend_{data.replace('-', '_')}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny settings; checks it works")
    p.add_argument("--data", default="digits", help="data.name (digits, fashion-mnist, ...)")
    p.add_argument("--data-path", default="", help="data.path, for data sets read from files")
    p.add_argument("--models", nargs="+", help="zoo names or module:factory (default resnet20)")
    p.add_argument("--seeds", type=int, help="number of seeds (default 3)")
    p.add_argument("--winners", nargs="+", default=[], metavar="[MODEL=]RUN_DIR",
                   help="also compare at the winners of an `edgeprune run` folder of that model")
    p.add_argument("--recover-steps", type=int,
                   help="KD steps of every recovery (default 40; 100 on fashion-mnist)")
    args = p.parse_args(argv)
    import os

    os.environ.setdefault("EDGEPRUNE_CACHE", "bench/results/tmp/cache")
    run(args.smoke, args.data, args.data_path, args.models, args.seeds, args.winners,
        args.recover_steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
