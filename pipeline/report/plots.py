"""The report's figures, as PNG files (matplotlib, Agg backend: no display needed).

Inputs are the plain dicts of the run's JSON files; optional keys may be missing.
"""
from __future__ import annotations

from pathlib import Path

WINNER_COLOURS = ["#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # never needs a display, also where one exists
    import matplotlib.pyplot as plt

    return plt


def _p50(record: dict):
    lat = record.get("latency_ms") or {}
    return lat.get("p50") if isinstance(lat, dict) else None


def cost_axis(evaluations: list[dict], baseline: dict | None = None):
    """(cost function, axis label): device p50 latency where measured, else MACs, else params."""
    records = list(evaluations) + ([baseline] if baseline else [])
    if any(_p50(r) is not None for r in records):
        return _p50, "latency p50 (ms)"
    if any(r.get("macs") for r in records):
        return (lambda r: r["macs"] / 1e6 if r.get("macs") else None), "MMACs (no latency measured)"
    return (lambda r: r["params"] / 1e3 if r.get("params") else None), "k parameters (no latency measured)"


def pareto_front(points: list[tuple[float, float, int]]) -> list[int]:
    """Indices of (cost, accuracy, index) points no other point beats on both (lower cost, higher acc)."""
    front, best_acc = [], float("-inf")
    for cost, acc, idx in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best_acc:
            front.append(idx)
            best_acc = acc
    return front


def plot_pareto(evaluations: list[dict], baseline: dict, path, flops_points: list[dict] | None = None,
                winners: list[dict] | None = None, note: str = "") -> Path:
    """Accuracy against latency: every evaluated individual faint, the front highlighted,
    winners labelled, the baseline as a star, FLOPs-chosen comparison points as diamonds.

    winners: [{"id", "reason", "accuracy_val"?}] naming evaluations to label, with the
    validation accuracy each reached after full recovery; note: a line under the title
    (e.g. that latencies are emulation times).
    """
    plt = _pyplot()
    cost, label = cost_axis(evaluations, baseline)
    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
    pts = [(cost(r), r.get("accuracy"), i) for i, r in enumerate(evaluations)]
    pts = [p for p in pts if p[0] is not None and p[1] is not None]
    feasible = [p for p in pts if evaluations[p[2]].get("feasible", True)]
    infeasible = [p for p in pts if not evaluations[p[2]].get("feasible", True)]
    if feasible:
        ax.scatter([p[0] for p in feasible], [100 * p[1] for p in feasible], s=14, c="#1f77b4",
                   alpha=0.25, linewidths=0, label=f"evaluated ({len(feasible)})")
    if infeasible:
        ax.scatter([p[0] for p in infeasible], [100 * p[1] for p in infeasible], s=14, c="grey",
                   alpha=0.3, marker="x", linewidths=0.8, label=f"infeasible ({len(infeasible)})")
    front = pareto_front(feasible)
    if front:
        fx = [cost(evaluations[i]) for i in front]
        fy = [100 * evaluations[i]["accuracy"] for i in front]
        ax.plot(fx, fy, "-o", color="#ff7f0e", ms=5, lw=1.5, drawstyle="steps-post",
                label=f"front of all evaluated ({len(front)})")
    if flops_points:
        fp = [(cost(r), r.get("accuracy")) for r in flops_points]
        fp = [p for p in fp if p[0] is not None and p[1] is not None]
        ax.scatter([p[0] for p in fp], [100 * p[1] for p in fp], marker="D", s=36, c="none",
                   edgecolors="#2ca02c", linewidths=1.5, label="FLOPs-chosen, measured")
    if baseline and cost(baseline) is not None and baseline.get("accuracy") is not None:
        ax.scatter([cost(baseline)], [100 * baseline["accuracy"]], marker="*", s=220, c="black",
                   zorder=5, label="baseline (unpruned)")
    by_id = {r.get("id"): r for r in evaluations}
    for k, w in enumerate(winners or []):
        rec = by_id.get(w.get("id"))
        if rec is None or cost(rec) is None:
            continue
        colour = WINNER_COLOURS[k % len(WINNER_COLOURS)]
        x, y = cost(rec), 100 * rec["accuracy"]
        ax.scatter([x], [y], s=90, facecolors="none", edgecolors=colour, linewidths=2, zorder=6)
        recovered = w.get("accuracy_val")
        if recovered is not None:
            # Same architecture, so same latency: the arrow shows what full recovery gained
            # over the search's cheap estimate.
            ax.annotate("", (x, 100 * recovered), xytext=(x, y), zorder=6,
                        arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.5})
            ax.scatter([x], [100 * recovered], s=60, c=colour, zorder=7)
        ax.annotate(w.get("reason") or w.get("id"), (x, y), xytext=(8, -14 - 10 * (k % 2)),
                    textcoords="offset points", color=colour, fontsize=9, fontweight="bold")
    ax.set_xlabel(label)
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy against cost" + (f"\n{note}" if note else ""), fontsize=11)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower right")
    return _save(fig, plt, path)


def plot_channels(channels: dict, full: dict, path, title: str = "") -> Path:
    """Kept against original channels per prunable group (horizontal bars, network order)."""
    plt = _pyplot()
    names = [n for n in full if n in channels] or list(channels)
    height = max(2.5, 0.28 * len(names) + 1.2)
    fig, ax = plt.subplots(figsize=(8, height), dpi=110)
    ys = list(range(len(names)))[::-1]
    orig = [full.get(n, channels[n]) for n in names]
    kept = [channels[n] for n in names]
    ax.barh(ys, orig, color="#d9d9d9", label="original")
    ax.barh(ys, kept, color="#1f77b4", label="kept")
    for y, k, o in zip(ys, kept, orig):
        ax.text(o, y, f" {k}/{o}", va="center", fontsize=7)
    ax.set_yticks(ys, names, fontsize=7)
    ax.set_xlabel("channels")
    ax.set_xlim(0, max(orig + [1]) * 1.15)
    total_k, total_o = sum(kept), sum(orig)
    ax.set_title((title + ": " if title else "") + f"{total_k}/{total_o} channels kept "
                 f"({100 * total_k / max(1, total_o):.0f}%)", fontsize=11)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, plt, path)


def plot_latency(artifact_samples: dict, path, note: str = "") -> Path:
    """Distribution of latency samples per format (box plot with the samples over it)."""
    import numpy as np

    plt = _pyplot()
    items = [(k, [float(v) for v in vs]) for k, vs in artifact_samples.items() if vs]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.5 * len(items) + 1.5)), dpi=110)
    if items:
        data = [v for _, v in items]
        ax.boxplot(data, orientation="horizontal", widths=0.5, showfliers=False)
        rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
        for i, vs in enumerate(data, start=1):
            ax.scatter(vs, i + rng.uniform(-0.15, 0.15, len(vs)), s=6, alpha=0.4, c="#1f77b4")
        ax.set_yticks(range(1, len(items) + 1), [k for k, _ in items], fontsize=8)
        ax.invert_yaxis()  # first file on top, in reading order
        ax.set_xlabel("latency per inference (ms)")
    else:
        ax.text(0.5, 0.5, "no latency samples recorded", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("Latency distribution per exported file" + (f"\n{note}" if note else ""), fontsize=11)
    ax.grid(alpha=0.3, axis="x")
    return _save(fig, plt, path)


def _save(fig, plt, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    from pipeline.atomic import atomic_target

    with atomic_target(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
