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


def first_rung(count: int, start: int | None = None) -> int:
    """The rung bisect_ladder tries first: `start` (kept on the ladder), else the middle."""
    return (count - 1) // 2 if start is None else min(max(start, 0), count - 1)


def bisect_ladder(count: int, budget: int, passes, start: int | None = None) -> int | None:
    """Index of the fastest rung found to pass, trying at most `budget` rungs of a ladder
    ordered fastest first, or None if none tried passed.

    Recovered accuracy falls, roughly monotonically, as a front gets faster, so the line "within
    1 point" cuts the ladder once: a pass sends the next try faster, a failure slower. Three tries
    place the line among seven rungs; trying fastest first spends them all on the deep end when
    accuracy binds (Fashion-MNIST: the line sits high up the front). `start`: a rung expected
    near the line (the recovery outlook's): tried first, then steps of 1, 2, 4 rungs away from
    it while the answer stays the same, then bisection."""
    lo, hi, best = 0, count - 1, None
    i = first_rung(count, start)
    galloping, direction, step = start is not None, 0, 1
    for _ in range(budget):
        if lo > hi:
            break
        ok = passes(i)
        if ok:
            best, hi = i, i - 1
        else:
            lo = i + 1
        toward = -1 if ok else 1
        galloping = galloping and direction in (0, toward)
        if galloping:
            direction, i, step = toward, min(max(i + toward * step, lo), hi), step * 2
        else:
            i = (lo + hi) // 2
    return best
