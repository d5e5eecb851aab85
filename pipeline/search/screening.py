"""Screening: propose many offspring, spend device measurements and training on the best few.

Each generation the GA proposes `offspring` architectures (several times its population);
surrogate models fitted on everything evaluated so far predict each proposal's error and
latency, and only the `k` most promising are evaluated for real: the proposals on the best
predicted non-dominated fronts, plus a share drawn at random so the surrogates keep learning
about the parts of the space they predict badly. Predictions are recorded in each chosen
evaluation's `extra` (never as its latency or accuracy: those stay measured and trained).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pipeline.search.genes import GeneSpace

MIN_SAMPLES = 8   # fewer evaluations than this: no model yet, keep pymoo's own order


@dataclass
class Screened:
    chosen: list[int]                  # indices into the proposals, best predicted first
    predicted_error: list[float | None]
    predicted_latency: list[float | None]
    how: str                           # "surrogate" or why it was not used


@dataclass
class SurrogateScreen:
    genes: GeneSpace
    seed: int = 0
    explore: float = 0.25              # share of the chosen drawn at random
    # latency predictor from outside (a device's learned model): genomes -> objective values,
    # or None while it cannot predict yet (the extra-trees surrogate is used then)
    latency_model: Callable[[list[dict[str, int]]], list[float] | None] | None = None

    def features(self, channels_list) -> np.ndarray:
        """Kept fraction per group: the same scale for a 16- and a 64-channel group."""
        full = np.array([c[-1] for c in self.genes.choices], dtype=float)
        return np.array([[ch[n] for n in self.genes.names] for ch in channels_list],
                        dtype=float) / full

    def __call__(self, proposals: list[dict[str, int]], evaluated: list, k: int) -> Screened:
        n = len(proposals)
        if n <= k:
            return Screened(list(range(n)), [None] * n, [None] * n, "fewer proposals than k")
        if len(evaluated) < MIN_SAMPLES:
            return Screened(list(range(k)), [None] * k, [None] * k, "too few evaluations")
        from sklearn.ensemble import ExtraTreesRegressor

        X = self.features([e.channels for e in evaluated])
        P = self.features(proposals)
        err_model = ExtraTreesRegressor(n_estimators=40, random_state=self.seed)
        err_model.fit(X, [1.0 - e.accuracy for e in evaluated])
        error = err_model.predict(P)
        predicted = self.latency_model(proposals) if self.latency_model is not None else None
        if predicted is not None:   # the device's learned predictor, once it is fitted
            latency = np.asarray(predicted, dtype=float)
        else:
            lat_model = ExtraTreesRegressor(n_estimators=40, random_state=self.seed)
            lat_model.fit(X, np.log([e.latency_objective() for e in evaluated]))
            latency = np.exp(lat_model.predict(P))
        order = rank_by_fronts(np.column_stack([error, latency]))
        n_explore = int(round(k * self.explore))
        chosen = list(order[:k - n_explore])
        rng = np.random.default_rng([self.seed, len(evaluated)])
        rest = [i for i in order if i not in set(chosen)]
        chosen += [int(i) for i in rng.choice(rest, size=min(n_explore, len(rest)), replace=False)]
        return Screened([int(i) for i in chosen], [float(error[i]) for i in chosen],
                        [float(latency[i]) for i in chosen], "surrogate")


def rank_by_fronts(F: np.ndarray) -> list[int]:
    """Indices ordered by non-dominated front, and within a front by crowding (spread first)."""
    from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    order: list[int] = []
    for front in NonDominatedSorting().do(F):
        crowd = calc_crowding_distance(F[front]) if len(front) > 2 else np.full(len(front), np.inf)
        order += [int(front[i]) for i in np.argsort(-crowd, kind="stable")]
    return order
