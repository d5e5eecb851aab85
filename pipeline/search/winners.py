"""The knee of a Pareto front: the point the main job offers beside the verified fastest."""
from __future__ import annotations

import numpy as np

from pipeline.search.records import Evaluation


def knee(front: list[Evaluation]):
    """The point farthest from the line joining the front's extremes, in normalised units."""
    if len(front) < 3:
        return max(front, key=lambda e: e.accuracy) if front else None
    pts = np.array([[1.0 - e.accuracy, e.latency_objective()] for e in front], dtype=float)
    span = pts.max(axis=0) - pts.min(axis=0)
    span[span == 0] = 1.0
    pts = (pts - pts.min(axis=0)) / span
    a, b = pts[np.argmin(pts[:, 1])], pts[np.argmin(pts[:, 0])]  # fastest, most accurate
    d = b - a
    norm = float(np.hypot(*d)) or 1.0
    dist = np.abs(d[0] * (pts[:, 1] - a[1]) - d[1] * (pts[:, 0] - a[0])) / norm
    return front[int(np.argmax(dist))]
