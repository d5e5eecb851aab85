"""Accuracy estimates vs accuracy after full recovery (issue 12): rank agreement and cost.

    python -m bench.estimate_rank                        # digits, 30 architectures
    python -m bench.estimate_rank --data fashion-mnist   # where pruning costs accuracy
    python -m bench.estimate_rank --smoke                # tiny settings, seconds

Architectures are drawn over the whole single-channel space (a global keep level from 1
channel to full, jittered per group). Each is scored by every estimator the search can use
(BN re-calibration alone; BN + K distillation steps at a high learning rate; the step-2 short
fine-tune; BN re-calibration of the architecture cut from a supernet trained once for every
width, pipeline/supernet) and then recovered fully from the trained model (the main job's
distillation without a supernet). Reported per estimator: Kendall's tau-b with the recovered
validation accuracy, and its seconds per architecture (the supernet's training once, apart).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np

from bench.common import load_bench_inputs, work_dir, write_result
from pipeline.progress import status

FULL = {"n": 30, "quick_steps": [20, 40, 80], "quick_lr": 0.05, "supernet_epochs": 10,
        "overrides": []}
SMOKE = {"n": 4, "quick_steps": [2], "quick_lr": 0.05, "supernet_epochs": 1,
         "overrides": ["model.name=resnet20-tiny", "train.epochs=1", "recover.epochs=1",
                       "search.front_finetune_steps=2"]}
DATA = {"digits": [], "fashion-mnist": ["data.name=fashion-mnist", "data.image_size=28",
                                        "data.limit=12000"]}


def sample_architectures(space, n: int, rng) -> list[dict[str, int]]:
    """n genomes spread from 1 channel per group to the full model, per-group jitter."""
    out = []
    for level in np.linspace(0.0, 1.0, n):
        keep_global = 0.02 + 0.98 * level ** 1.5   # denser where pruning is aggressive
        genome = {}
        for g in space.groups:
            keep = float(np.clip(keep_global * rng.lognormal(0.0, 0.35), 0.0, 1.0))
            genome[g.name] = int(np.clip(round(keep * g.channels), 1, g.channels))
        out.append(genome)
    return out


def run(s: dict, data: str, seed: int, smoke: bool) -> dict:
    import torch

    from pipeline.config import load_config
    from pipeline.prune import SearchSpace
    from pipeline.recover import distill, evaluate, recalibrate_bn, recover
    from pipeline.search.estimates import kendall_tau
    from pipeline.search.fitness import Evaluator

    cfg = load_config(overrides=DATA[data] + s["overrides"] + [f"seed={seed}"])
    splits, base, info = load_bench_inputs(cfg)
    example = torch.zeros(splits.input_shape)
    space = SearchSpace.from_model(base, example, round_to=1)
    ev = Evaluator(base_model=base, space=space, splits=splits, search_cfg=cfg.search,
                   recover_cfg=cfg.recover, device=None, workdir="bench/results/tmp/estimate",
                   seed=seed)
    supernet, supernet_s = None, None
    if s["supernet_epochs"]:   # trained as the main job trains it
        from bench.quality_methods import shared_supernet

        cfg.search.supernet_epochs = s["supernet_epochs"]
        t = time.perf_counter()
        supernet, _ = shared_supernet(cfg, (splits, base, info), work_dir(smoke, "estimate_rank"))
        supernet_s = time.perf_counter() - t
        status(f"estimate_rank: supernet trained in {supernet_s:.0f} s")
    rows = []
    for i, genome in enumerate(sample_architectures(space, s["n"], np.random.default_rng(seed))):
        row = {"channels": genome, "estimates": {}, "seconds": {}}
        if supernet is not None:
            t = time.perf_counter()
            model = supernet.prune(genome, example)
            recalibrate_bn(model, ev.calib_x)
            row["estimates"]["supernet_bn"] = evaluate(model, ev.val_x, ev.val_y)
            row["seconds"]["supernet_bn"] = time.perf_counter() - t
        t = time.perf_counter()
        model = ev.prune(genome)
        recalibrate_bn(model, ev.calib_x)
        row["estimates"]["bn_recal"] = evaluate(model, ev.val_x, ev.val_y)
        row["seconds"]["bn_recal"] = time.perf_counter() - t
        for steps in s["quick_steps"]:
            t = time.perf_counter()
            model = ev.prune(genome)
            recalibrate_bn(model, ev.calib_x)
            cfg.search.estimate_steps, cfg.search.estimate_lr = steps, s["quick_lr"]
            row["estimates"][f"kd_quick_{steps}"] = ev.quick_estimate(model)
            row["seconds"][f"kd_quick_{steps}"] = time.perf_counter() - t + row["seconds"]["bn_recal"]
        t = time.perf_counter()
        model = ev.prune(genome)
        recalibrate_bn(model, ev.calib_x)
        torch.manual_seed(seed)
        _, hist = distill(model, base, splits, cfg.recover, seed,
                          max_steps=cfg.search.front_finetune_steps)
        row["estimates"][f"kd_short_{cfg.search.front_finetune_steps}"] = hist.best_val_acc
        row["seconds"][f"kd_short_{cfg.search.front_finetune_steps}"] = time.perf_counter() - t
        t = time.perf_counter()
        model = ev.prune(genome)
        recalibrate_bn(model, ev.calib_x)
        torch.manual_seed(seed)
        model, _ = recover(model, base, splits, cfg.recover, seed)
        row["recovered"] = evaluate(model.eval(), splits.x_val, splits.y_val)
        row["seconds"]["recovered"] = time.perf_counter() - t
        status(f"estimate_rank {i + 1}/{s['n']}: " + ", ".join(
            f"{k} {100 * v:.1f}%" for k, v in row["estimates"].items())
            + f", recovered {100 * row['recovered']:.1f}%")
        rows.append(row)
    truth = [r["recovered"] for r in rows]
    summary = {}
    for name in rows[0]["estimates"]:
        est = [r["estimates"][name] for r in rows]
        summary[name] = {"kendall_tau": kendall_tau(est, truth),
                         "seconds_per_arch": statistics.median(r["seconds"][name] for r in rows),
                         "mean_gap_points": 100 * statistics.mean(t - e for t, e in zip(truth, est))}
    summary["recovered"] = {"seconds_per_arch": statistics.median(r["seconds"]["recovered"]
                                                                  for r in rows)}
    if supernet_s is not None:
        summary["supernet_bn"]["training_seconds_once"] = supernet_s
    return {"data": data, "model": cfg.model.name, "samples": {
                "train": len(splits.x_train), "val": len(splits.x_val), "test": len(splits.x_test)},
            "baseline_val": info["accuracy_val"], "estimators": summary, "rows": rows,
            "config": {"search": dataclasses.asdict(cfg.search), "recover": dataclasses.asdict(cfg.recover)}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--data", choices=sorted(DATA), default="digits")
    parser.add_argument("--n", type=int, default=0, help="architectures (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick-steps", default=None,
                        help="comma-separated KD step counts to score (default 20,40,80; '' none)")
    parser.add_argument("--limit", type=int, default=0,
                        help="Fashion-MNIST subset size (default 12000)")
    parser.add_argument("--supernet-epochs", type=int, default=None,
                        help="supernet training epochs (default 10; 0 leaves it out)")
    args = parser.parse_args(argv)
    s = dict(SMOKE if args.smoke else FULL)
    if args.n:
        s["n"] = args.n
    if args.quick_steps is not None:
        s["quick_steps"] = [int(v) for v in args.quick_steps.split(",") if v.strip()]
    if args.supernet_epochs is not None:
        s["supernet_epochs"] = args.supernet_epochs
    if args.limit:
        s["overrides"] = s["overrides"] + [f"data.limit={args.limit}"]
    payload = run(s, args.data, args.seed, args.smoke)
    name = f"estimate_rank_{args.data.replace('-', '_')}"
    path = write_result(name, args.smoke, payload, config=s, seed=args.seed, devices=[])
    for est, v in payload["estimators"].items():
        tau = v.get("kendall_tau")
        print(f"{est:<16} tau {tau if tau is None else round(tau, 3)!s:>6}  "
              f"{v['seconds_per_arch']:.2f} s/arch")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
