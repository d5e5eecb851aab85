"""NSGA-II (or the seed paper's weighted sum) driven ask/tell through pymoo.

The search knows nothing about devices: `evaluate(genomes, generation)` returns Evaluations,
`refine(evals)` runs the expensive step-2 fitness on the ones the search asks for.
Resume is a replay: the same seed and the checkpointed evaluations re-create every past
generation exactly (pymoo draws from one seeded Generator), then the search goes on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pipeline.search.estimates import put_on_refined_scale
from pipeline.search.genes import GeneSpace
from pipeline.search.records import Evaluation


@dataclass
class Baseline:
    accuracy: float
    latency: float        # in the latency objective's unit
    params: int


@dataclass
class Objectives:
    """How an Evaluation becomes objective values F and constraints G (G <= 0 is feasible)."""
    mode: str                      # nsga2 | weighted
    baseline: Baseline
    weights: tuple[float, ...] = (1.0, 1.0, 0.0)
    third: str = ""                # "" | params
    budget: float = 0.0            # latency budget in the objective's unit; 0 = none
    max_drop: float = 0.0          # accuracy drop allowed; 0 = none

    @property
    def n_obj(self) -> int:
        return 1 if self.mode == "weighted" else (3 if self.third else 2)

    @property
    def n_constr(self) -> int:
        return int(self.budget > 0) + int(self.max_drop > 0)

    def F(self, ev: Evaluation) -> list[float]:
        error, latency = 1.0 - ev.accuracy, ev.latency_objective()
        if self.mode == "weighted":
            w = list(self.weights) + [0.0] * (3 - len(self.weights))
            # The seed paper's fitness: error, computation and a sparsity term, weighted.
            return [w[0] * error + w[1] * latency / self.baseline.latency
                    + w[2] * ev.params / self.baseline.params]
        f = [error, latency]
        if self.third:
            f.append(ev.params / 1e6)
        return f

    def G(self, ev: Evaluation) -> list[float]:
        g = []
        if self.budget > 0:
            g.append(ev.latency_objective() - self.budget)
        if self.max_drop > 0:
            g.append((self.baseline.accuracy - ev.accuracy) - self.max_drop)
        return g

    def feasible(self, ev: Evaluation) -> bool:
        return all(v <= 0 for v in self.G(ev))


def non_dominated(evals: list[Evaluation], objectives: Objectives) -> list[Evaluation]:
    """Feasible non-dominated set on (error, latency), falling back to all when none is feasible."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    pool = [e for e in evals if objectives.feasible(e)] or list(evals)
    if not pool:
        return []
    F = np.array([[1.0 - e.accuracy, e.latency_objective()] for e in pool])
    idx = NonDominatedSorting().do(F, only_non_dominated_front=True)
    return sorted((pool[i] for i in idx), key=lambda e: e.latency_objective())


@dataclass
class GenerationSummary:
    generation: int
    evaluations: list[Evaluation]
    front: list[Evaluation]
    rng_state: dict = field(default_factory=dict)
    population: list[list[int]] = field(default_factory=list)
    proposed: int = 0             # offspring proposed so far, screened ones included


def aligned_mutation(genes: GeneSpace, share: float):
    """pymoo's polynomial mutation; then, in `share` of the mutated individuals, every gene it
    moved goes to the nearest multiple of the device's SIMD width (genes.align). Per-channel
    genes let the search find any staircase; the snapped share lets it step along the one
    most devices have without waiting for a random walk to hit 32 rather than 31."""
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair

    class AlignedPM(PM):
        def _do(self, problem, X, *args, random_state=None, **kwargs):
            Y = super()._do(problem, X, *args, random_state=random_state, **kwargs)
            moved = np.round(Y) != np.round(X)
            for i in np.flatnonzero(random_state.random(len(Y)) < share):
                Y[i] = genes.aligned(Y[i], moved[i])
            return Y

    return AlignedPM(eta=20, vtype=float, repair=RoundingRepair())


class GeneticSearch:
    def __init__(self, genes: GeneSpace, objectives: Objectives, population: int,
                 generations: int, seed: int, refine_per_generation: int = 0,
                 offspring: int = 0, screen: Callable | None = None, snap_share: float = 0.0,
                 coarse_generations: int = 0):
        """offspring: architectures proposed per generation (0: the population); with more
        proposals than the population, `screen(genomes, evaluated, k)` picks the k evaluated.
        snap_share: share of mutated individuals snapped to genes.align (aligned_mutation).
        coarse_generations: generations whose every proposal is snapped whole to genes.align
        before it is screened or measured; the later ones search every channel count."""
        self.snap_share = snap_share
        self.coarse_generations = coarse_generations
        self.genes, self.objectives = genes, objectives
        self.population, self.generations, self.seed = population, generations, seed
        self.refine_per_generation = refine_per_generation
        self.offspring = max(offspring, population)
        self.screen = screen
        self.proposed = 0

    def _algorithm(self, initial: np.ndarray):
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.algorithms.soo.nonconvex.ga import GA
        from pymoo.core.problem import Problem
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.repair.rounding import RoundingRepair

        problem = Problem(n_var=len(self.genes.names), n_obj=self.objectives.n_obj,
                          n_ieq_constr=self.objectives.n_constr,
                          xl=np.asarray(self.genes.lower), xu=np.asarray(self.genes.upper),
                          vtype=int)
        kwargs = dict(pop_size=self.population, n_offsprings=self.offspring,
                      sampling=initial.astype(float),
                      crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                      mutation=(aligned_mutation(self.genes, self.snap_share)
                                if self.genes.align > 1 and self.snap_share > 0
                                else PM(eta=20, vtype=float, repair=RoundingRepair())),
                      eliminate_duplicates=True)
        algo = GA(**kwargs) if self.objectives.mode == "weighted" else NSGA2(**kwargs)
        algo.setup(problem, termination=("n_gen", self.generations), seed=self.seed)
        return problem, algo

    def _set_values(self, problem, pop, lookup: dict[tuple, Evaluation]) -> None:
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        evs = [lookup[tuple(np.asarray(x).round().astype(int))] for x in pop.get("X")]
        F = np.array([self.objectives.F(e) for e in evs], dtype=float)
        kw = {"F": F}
        if self.objectives.n_constr:
            kw["G"] = np.array([self.objectives.G(e) for e in evs], dtype=float)
        Evaluator(skip_already_evaluated=False).eval(StaticProblem(problem, **kw), pop)

    def _coarse(self, pop, X):
        """Every proposal on the device's steps, duplicates dropped. Why: at single-channel
        granularity a few dozen measurements cover a space ~align^genes times the grid's, and
        crossover leaves counts one over a step (9, 17), which run a whole step slower; on the
        grid first, the search spends its early measurements where a coarse search would."""
        X = np.stack([self.genes.aligned(x) for x in X])
        _, first = np.unique(X, axis=0, return_index=True)
        keep = np.sort(first)
        pop = pop[keep]
        pop.set("X", X[keep].astype(float))
        return pop, X[keep]

    def _screen(self, pop, X, seen: dict):
        """Keep the population's worth of proposals the screen rates best; new ones first."""
        from pipeline.search.records import genome_key

        genomes = [self.genes.decode(x) for x in X]
        fresh = [i for i, g in enumerate(genomes) if genome_key(g) not in seen]
        pool = fresh if len(fresh) >= self.population else list(range(len(X)))
        result = self.screen([genomes[i] for i in pool], list(seen.values()), self.population)
        keep = [pool[i] for i in result.chosen]
        predictions = {
            j: {"screened": {"from": len(X), "how": result.how,
                             "predicted_error": result.predicted_error[j],
                             "predicted_latency": result.predicted_latency[j]}}
            for j in range(len(keep))}
        return pop[keep], X[keep], predictions

    def run(self, evaluate: Callable, refine: Callable | None, initial: np.ndarray,
            on_generation: Callable[[GenerationSummary], None] | None = None
            ) -> list[Evaluation]:
        problem, algo = self._algorithm(initial)
        lookup: dict[tuple, Evaluation] = {}
        seen: dict[str, Evaluation] = {}
        for gen in range(self.generations):
            pop = algo.ask() if algo.has_next() else None
            if pop is None or len(pop) == 0:
                break  # the space is exhausted: no new architecture left to try
            X = np.asarray(pop.get("X")).round().astype(int)
            if gen < self.coarse_generations and self.genes.align > 1:
                pop, X = self._coarse(pop, X)
            self.proposed += len(X)
            predictions = {}
            if gen > 0 and self.screen is not None and len(X) > self.population:
                pop, X, predictions = self._screen(pop, X, seen)
            evals = evaluate([self.genes.decode(x) for x in X], gen)
            for i, (x, ev) in enumerate(zip(X, evals)):
                lookup[tuple(x)] = ev
                if ev.key not in seen and i in predictions:
                    ev.extra.update(predictions[i])
                seen[ev.key] = ev
            if refine is not None and self.refine_per_generation > 0:
                put_on_refined_scale(seen.values(), self.objectives.baseline.accuracy)
                front = [e for e in non_dominated(list(seen.values()), self.objectives)
                         if e.accuracy_kd is None]
                # Fastest first: the cheap estimate is most pessimistic where pruning is
                # deepest, so the fast end of the front is where step 2 changes the picture.
                front.sort(key=lambda e: e.latency_objective())
                refine(front[:self.refine_per_generation])
                put_on_refined_scale(seen.values(), self.objectives.baseline.accuracy)
            # Rank on the best available estimates: re-set values of survivors too.
            self._set_values(problem, pop, lookup)
            if algo.pop is not None and len(algo.pop):
                self._set_values(problem, algo.pop, lookup)
            algo.tell(infills=pop)
            for ev in seen.values():
                ev.feasible = self.objectives.feasible(ev)
            if on_generation is not None:
                on_generation(GenerationSummary(
                    generation=gen, evaluations=list(seen.values()),
                    front=non_dominated(list(seen.values()), self.objectives),
                    rng_state=algo.random_state.bit_generator.state,
                    population=np.asarray(algo.pop.get("X")).round().astype(int).tolist(),
                    proposed=self.proposed))
        return list(seen.values())
