"""How good a predictor is on measurements it never saw: error shares and a scatter plot."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pipeline.predictor.model import error_summary


def evaluate_on(predictor, samples) -> dict:
    """Error summary of `predictor` on held-out `samples`, with every (measured, predicted)."""
    measured = np.asarray([s.latency_ms for s in samples])
    # each prediction scaled by the reference timed beside its measurement (relative predictor)
    refs = [s.reference_ms for s in samples]
    predicted = predictor.predict([s.channels for s in samples],
                                  refs if all(refs) else None)
    summary = error_summary(predicted / measured - 1)
    summary["relative"] = bool(predictor.relative)
    summary["points"] = [{"measured_ms": float(m), "predicted_ms": float(p), "reference_ms": r,
                          "channels": dict(s.channels), "passes_ms": s.extra.get("passes_ms")}
                         for m, p, r, s in zip(measured, predicted, refs, samples)]
    return summary


def plot_scatter(summary: dict, path, title: str) -> Path:
    """Predicted against measured, with the ±10% band; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    measured = np.asarray([p["measured_ms"] for p in summary["points"]])
    predicted = np.asarray([p["predicted_ms"] for p in summary["points"]])
    low, high = min(measured.min(), predicted.min()) * 0.9, max(measured.max(), predicted.max()) * 1.1
    line = np.geomspace(low, high, 50)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.fill_between(line, line * 0.9, line * 1.1, color="tab:green", alpha=0.15, label="±10%")
    ax.plot(line, line, color="tab:green", lw=1)
    ax.scatter(measured, predicted, s=12, color="tab:blue", label="architecture")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured p50 (ms)")
    ax.set_ylabel("predicted (ms)")
    ax.set_title(f"{title}\n{summary['within_10pct']:.0%} within ±10%, "
                 f"median error {summary['median_abs_rel']:.1%}, n={summary['n']}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.png")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path
