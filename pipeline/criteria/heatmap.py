"""The agreement heat-map (matplotlib, Agg backend), written atomically."""
from __future__ import annotations

import os
from pathlib import Path


def plot_agreement(matrix, criteria, path, clusters=(), correlation: str = "spearman") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 4.4), dpi=110)
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(criteria)), criteria)
    ax.set_yticks(range(len(criteria)), criteria)
    for i in range(len(criteria)):
        for j in range(len(criteria)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(m[i, j]) > 0.6 else "black")
    fig.colorbar(im, ax=ax, label=f"mean per-group {correlation} correlation")
    title = "criteria agreement"
    if clusters:
        title += "\nclusters: " + " | ".join(", ".join(c) for c in clusters)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path
