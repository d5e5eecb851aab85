import numpy as np

from pipeline.search.ga import Baseline, GeneticSearch, Objectives, non_dominated
from pipeline.search.genes import initial_population

from helpers.fake_search import CHANNELS, FakeEvaluator, gene_space


def run_once(seed, mode="nsga2", refine=True, **obj):
    genes = gene_space()
    objectives = Objectives(mode=mode, baseline=Baseline(0.99, 2.0, 12800), **obj)
    rng = np.random.default_rng(seed)
    init = initial_population(genes, 10, rng, 0.25)
    fake = FakeEvaluator()
    search = GeneticSearch(genes, objectives, population=10, generations=6, seed=seed,
                           refine_per_generation=3 if refine else 0)
    evals = search.run(fake.evaluate, fake.refine if refine else None, init)
    return evals, fake, objectives


def front_of(evals, objectives):
    return sorted((e.key, round(e.accuracy, 6), e.latency_objective())
                  for e in non_dominated(evals, objectives))


def test_same_seed_same_front_and_evaluations():
    a, _, oa = run_once(3)
    b, _, ob = run_once(3)
    assert [e.key for e in a] == [e.key for e in b]
    assert front_of(a, oa) == front_of(b, ob)


def test_different_seed_explores_differently():
    a, _, _ = run_once(1)
    b, _, _ = run_once(2)
    assert [e.key for e in a] != [e.key for e in b]


def test_initial_population_has_unpruned_model_and_no_duplicates():
    genes = gene_space()
    init = initial_population(genes, 12, np.random.default_rng(0), 0.25,
                              sensitivity={n: i for i, n in enumerate(CHANNELS)})
    assert genes.decode(init[0]) == CHANNELS
    assert len({tuple(r) for r in init}) == len(init) == 12
    assert (init >= np.asarray(genes.lower)).all() and (init <= np.asarray(genes.upper)).all()


def test_search_improves_on_the_initial_front():
    evals, fake, objectives = run_once(0)
    first = [e for e in evals if e.generation == 0]
    best_first = min(e.latency_objective() for e in first if e.accuracy >= 0.95)
    best_all = min(e.latency_objective() for e in evals if e.accuracy >= 0.95)
    assert best_all <= best_first
    assert fake.refined > 0
    assert any(e.error_step == "kd_short" for e in evals)


def test_architectures_are_evaluated_once():
    evals, fake, _ = run_once(0)
    assert fake.calls == len(evals) == len({e.key for e in evals})


def test_budget_constraint_marks_infeasible_and_front_is_feasible():
    evals, _, objectives = run_once(0, budget=1.5)
    assert any(not e.feasible for e in evals)
    front = non_dominated(evals, objectives)
    assert front and all(e.latency_objective() <= 1.5 for e in front)


def test_weighted_sum_mode_runs_and_is_reproducible():
    a, _, oa = run_once(5, mode="weighted", weights=(1.0, 0.5, 0.1))
    b, _, _ = run_once(5, mode="weighted", weights=(1.0, 0.5, 0.1))
    assert [e.key for e in a] == [e.key for e in b]
    assert oa.n_obj == 1
