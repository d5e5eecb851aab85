"""How far measured latency departs from MACs: the most a latency-driven search can gain over a
FLOPs-driven one on a device (issue 12 asks why the latency GA does not pull further ahead).

    python -m bench.latency_vs_macs           # on bench/results/predictor_accuracy.json
    python -m bench.latency_vs_macs --smoke   # on the smoke result of bench.predictor_accuracy

It measures nothing itself: it takes the fresh random architectures `bench.predictor_accuracy`
measured for `predictor eval` (each relative to the unpruned model timed beside it), takes each
one's MACs from the predictor's layer table, and asks two things per model and device:
- rank: Spearman's rho of MACs and latency (1: MACs order the architectures as the device does);
- room at equal MACs: among architectures within ±5% of each other's MACs, how much faster the
  fastest runs than the median one. A FLOPs-driven search cannot tell them apart; a latency-driven
  one can, so this is about what it can win at one accuracy. Measurement noise widens it, so the
  device's own repeatability (its passes within ±10% of each other) stands beside it.
"""
from __future__ import annotations

import argparse
import time

from bench.common import git_commit, read_result, results_dir, write_result
from pipeline.progress import status

NEAR = 0.05          # architectures within ±5% of each other's MACs count as equal
MIN_NEIGHBOURS = 3   # an architecture with fewer equals (itself included) is not compared


def macs_of(model_ref: str, input_shape, genomes: list[dict]) -> tuple[int, list[int]]:
    """The unpruned model's MACs and each genome's, from the predictor's layer table (conv and
    linear layers' shapes per genome, checked against real cuts by tests/predictor): no model
    is pruned, so hundreds of genomes take milliseconds."""
    import torch

    from pipeline.models import build_model
    from pipeline.predictor import LayerTable
    from pipeline.predictor.features import layer_terms
    from pipeline.prune import SearchSpace

    torch.manual_seed(0)
    model = build_model(model_ref, num_classes=10, in_channels=input_shape[1]).eval()
    example = torch.zeros(tuple(input_shape))
    table = LayerTable.from_model(model, SearchSpace.from_model(model, example), example)
    macs = layer_terms(table, [{}, *genomes])["macs"].sum(axis=1) * 1e6   # {}: every channel
    return int(round(macs[0])), [int(round(m)) for m in macs[1:]]


def room(macs, latency) -> dict:
    """Spearman's rho, and per architecture with MIN_NEIGHBOURS equals: fastest / median latency
    among its equals. The median over architectures and its 10th percentile."""
    import numpy as np
    from scipy.stats import spearmanr

    macs, latency = np.asarray(macs, float), np.asarray(latency, float)
    gains = []
    for m in macs:
        equal = latency[np.abs(macs / m - 1) <= NEAR]
        if len(equal) >= MIN_NEIGHBOURS:
            gains.append(float(equal.min() / np.median(equal)))
    rho = float(spearmanr(macs, latency).statistic)
    return {"n": len(macs), "spearman": rho, "compared": len(gains),
            "fastest_vs_median": float(np.median(gains)) if gains else None,
            "fastest_vs_median_p10": float(np.percentile(gains, 10)) if gains else None}


def cell(model_ref: str, profile: str, predictor_cell: dict, input_shape, plot_path) -> dict:
    points = predictor_cell["eval"]["points"]
    full, macs = macs_of(model_ref, input_shape, [p["channels"] for p in points])
    rel_macs = [m / full for m in macs]
    # relative to the unpruned model timed beside each one: the host's drift taken out
    rel_ms = [p["measured_ms"] / p["reference_ms"] if p.get("reference_ms") else p["measured_ms"]
              for p in points]
    out = {**room(rel_macs, rel_ms), "full_macs": full,
           "points": [{"macs": m, "latency_rel": r} for m, r in zip(macs, rel_ms)],
           "repeatability": predictor_cell["eval"].get("repeatability"),
           "measured_at": {k: predictor_cell.get(k) for k in ("git_commit", "finished_utc")},
           "plot": plot_path.name}
    plot(rel_macs, rel_ms, plot_path, f"{model_ref} on {profile}")
    return out


def plot(rel_macs, rel_ms, path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.scatter(rel_macs, rel_ms, s=10)
    ax.set_xlabel("MACs / unpruned")
    ax.set_ylabel("measured p50 / unpruned (timed beside it)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def run(smoke: bool = False) -> dict:
    source = read_result("predictor_accuracy", smoke)
    if source is None:
        raise SystemExit("no predictor_accuracy result to read: run "
                         f"`python -m bench.predictor_accuracy{' --smoke' if smoke else ''}` first")
    shape = source["config"]["input_shape"]
    cells: dict = {}
    for model_ref, by_profile in source["cells"].items():
        for profile, pc in by_profile.items():
            safe = f"{model_ref.replace(':', '_').replace('.', '_')}-{profile}"
            c = cell(model_ref, profile, pc, shape,
                     results_dir(smoke) / f"latency_vs_macs-{safe}.png")
            cells.setdefault(model_ref, {})[profile] = c
            status(f"[{model_ref} / {profile}] Spearman {c['spearman']:.3f}; at equal MACs the "
                   f"fastest runs {c['fastest_vs_median'] or float('nan'):.3f}x the median "
                   f"({c['compared']} of {c['n']} compared)")
    payload = {"cells": cells, "source_commit": source.get("git_commit"),
               "source_finished_utc": source.get("finished_utc")}
    path = write_result("latency_vs_macs", smoke, payload,
                        config={"near": NEAR, "min_neighbours": MIN_NEIGHBOURS,
                                "input_shape": shape, "min_keep": source["config"].get("min_keep")},
                        seed=0, devices=source.get("devices", []))
    status(f"written: {path} (commit {git_commit()[:10]}, "
           f"{time.strftime('%H:%M:%S')})")
    return cells


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="on the smoke predictor result")
    args = parser.parse_args(argv)
    run(args.smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
