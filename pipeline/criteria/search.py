"""The blend's weights, found by a seeded evolutionary search (pymoo GA, ask/tell).

Fitness is the search's own step-1 estimate (`pipeline.search.fitness`): prune the trained
model at each fixed target architecture with the candidate blend, re-calibrate BatchNorm on the
same fixed training batches, and take the accuracy on a validation subset; a candidate's
fitness is the mean over targets. Weights live on a grid of `STEPS` (0, 0.1, ..., 1 before
normalising), which bounds the space and lets equal candidates share one evaluation. The
first generation holds every representative alone and the equal blend, so the chosen blend
is never worse on the search data than any single representative.
The chosen weights are then checked on held-out data the search never saw (the rest of the
validation split), next to each representative alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from pipeline.criteria.blend import Blend
from pipeline.progress import progress

STEPS = 10


@dataclass(frozen=True)
class Candidate:
    weights: tuple[float, ...]      # normalised to sum 1, in the representatives' order
    fitness: float                  # mean step-1 accuracy over the targets (search data)
    accuracy: dict                  # {target label: accuracy}
    generation: int


@dataclass
class Probe:
    """Step-1 accuracy of the pruned model at fixed targets, for any importance."""
    base_model: object
    example: object
    targets: dict                   # {label: genome}
    calib_batches: list             # (x, y) training batches: BN statistics (and taylor)
    x: object
    y: object
    evaluations: int = 0
    seconds: float = 0.0

    def accuracy(self, importance) -> dict[str, float]:
        from pipeline.prune import apply_genome
        from pipeline.recover import evaluate, recalibrate_bn

        start = time.perf_counter()
        out = {}
        for label, genome in self.targets.items():
            model = apply_genome(self.base_model, genome, self.example, importance=importance,
                                 batches=self.calib_batches)
            recalibrate_bn(model, [x for x, _ in self.calib_batches])
            out[label] = float(evaluate(model, self.x, self.y))
            self.evaluations += 1
        self.seconds += time.perf_counter() - start
        return out


@dataclass
class WeightSearch:
    representatives: tuple[str, ...]
    population: int = 8
    generations: int = 4
    seed: int = 0
    normalise: str = "rank"
    candidates: list[Candidate] = field(default_factory=list)

    def blend(self, weights) -> Blend:
        return Blend(self.representatives, tuple(weights), self.normalise)

    def run(self, probe: Probe) -> Candidate:
        """Every candidate evaluated is kept in `self.candidates`; returns the fittest (ties:
        the first evaluated, so a single criterion wins over an equal blend)."""
        k = len(self.representatives)
        cache: dict[tuple, Candidate] = {}

        def score(grid_row, generation) -> Candidate:
            w = _weights(grid_row)
            if w not in cache:
                acc = probe.accuracy(self.blend(w))
                cache[w] = Candidate(w, float(np.mean(list(acc.values()))), acc, generation)
                self.candidates.append(cache[w])
            return cache[w]

        initial = _initial(k, self.population, np.random.default_rng(self.seed))
        if k == 1 or self.generations < 1:
            for row in initial[:k]:
                score(row, 0)
            return max(self.candidates, key=lambda c: c.fitness)
        problem, algo = _algorithm(k, self.population, self.generations, self.seed, initial)
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        for gen in progress(range(self.generations), desc="blend search", unit="gen"):
            pop = algo.ask() if algo.has_next() else None
            if pop is None or len(pop) == 0:
                break
            X = np.asarray(pop.get("X")).round().astype(int)
            F = np.array([[-score(x, gen).fitness] for x in X])
            Evaluator(skip_already_evaluated=False).eval(StaticProblem(problem, F=F), pop)
            algo.tell(infills=pop)
        best = max(c.fitness for c in self.candidates)
        return next(c for c in self.candidates if c.fitness == best)


def _weights(grid_row) -> tuple[float, ...]:
    row = np.asarray(grid_row, dtype=float)
    if row.sum() <= 0:
        row = np.ones_like(row)   # all zero means nothing: read it as the equal blend
    return tuple(round(float(v), 4) for v in row / row.sum())


def _initial(k: int, population: int, rng) -> np.ndarray:
    rows = [np.eye(k, dtype=int)[i] * STEPS for i in range(k)] + [np.full(k, STEPS)]
    while len(rows) < population:
        rows.append(rng.integers(0, STEPS + 1, size=k))
    return np.asarray(rows[:max(population, k + 1)])


def _algorithm(k: int, population: int, generations: int, seed: int, initial: np.ndarray):
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair

    problem = Problem(n_var=k, n_obj=1, xl=np.zeros(k), xu=np.full(k, STEPS), vtype=int)
    algo = GA(pop_size=len(initial), sampling=initial.astype(float),
              crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
              mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
              eliminate_duplicates=True)
    algo.setup(problem, termination=("n_gen", generations), seed=seed)
    return problem, algo
