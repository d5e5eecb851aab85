"""The benchmark figures (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path

MARKERS = {"latency-ga": ("o", "tab:red"), "flops-ga-r8": ("s", "tab:blue"),
           "flops-ga-r1": ("D", "tab:cyan"), "random": ("x", "tab:gray"),
           "uniform-l1": ("^", "tab:green"), "tp-global-magnitude": ("v", "tab:purple")}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_search_quality(results: dict, path: Path) -> Path:
    """One panel per model and profile: test accuracy against measured p50 of every final file."""
    plt = _pyplot()
    panels = [(m, p) for m, r in results.items() for p in r["profiles"]]
    cols = max(1, len({p for _, p in panels}))
    rows = max(1, len(results))
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4.2 * rows), squeeze=False)
    profiles = sorted({p for _, p in panels})
    for i, model in enumerate(results):
        for j, profile in enumerate(profiles):
            ax = axes[i][j]
            scored = results[model]["profiles"].get(profile)
            if scored is None:
                ax.axis("off")
                continue
            base = scored["baseline"]
            ax.axhline(100 * base["accuracy_test"] - 1, color="k", lw=0.8, ls=":",
                       label="baseline - 1 point")
            ax.plot(base["latency_ms"]["p50"], 100 * base["accuracy_test"], "k*", ms=12,
                    label="baseline")
            for name, m in scored["methods"].items():
                marker, color = MARKERS.get(name, ("o", None))
                pts = m["points"]
                if not pts:
                    continue
                x = [p["latency_ms"]["p50"] for p in pts]
                err = [[p["latency_ms"]["p50"] - p["latency_ms"]["p50_min"] for p in pts],
                       [p["latency_ms"]["p50_max"] - p["latency_ms"]["p50"] for p in pts]]
                y = [100 * p["accuracy_test"] for p in pts]
                ax.errorbar(x, y, xerr=err, fmt=marker, color=color, label=name, ms=6,
                            capsize=2, lw=0.8)
            ax.set_title(f"{model} on {profile}")
            ax.set_xlabel("measured p50 latency (ms), bars: range over rounds")
            ax.set_ylabel("test accuracy of the exported file (%)")
            ax.grid(alpha=0.3)
            lo = 100 * base["accuracy_test"] - 6
            ax.set_ylim(bottom=max(ax.get_ylim()[0], lo))
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_search_cost(stages: dict, scaling: dict, path: Path) -> Path:
    """Stage split of the default run, and seconds per evaluated architecture by model/population."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(stages)
    a.barh(names, [stages[n] for n in names], color="tab:blue")
    a.set_xlabel("wall time (s)")
    a.set_title("default run, by stage")
    labels, seconds = [], []
    for model, r in scaling.items():
        for row in r["rows"]:
            labels.append(f"{model.split(':')[-1]}\n{r['macs'] / 1e6:.0f} MMACs, P={row['population']}")
            seconds.append(row["wall_s"])
    b.bar(range(len(seconds)), seconds, color="tab:orange")
    b.set_xticks(range(len(seconds)), labels, fontsize=7)
    b.set_ylabel("wall time of one generation (s)")
    b.set_title("growth with population P and model size")
    b.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
