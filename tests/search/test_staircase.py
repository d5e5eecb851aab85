"""At single-channel granularity the GA must find a device's latency staircase by itself.

The fake device (search unit tests only) runs multiples of 8 channels fast and anything else
1.6x slower per channel; nothing tells the search where the steps are.
"""
import numpy as np
import pytest

from pipeline.search.ga import Baseline, GeneticSearch, Objectives, non_dominated
from pipeline.search.genes import initial_population
from pipeline.search.screening import SurrogateScreen

from helpers.fake_search import FakeEvaluator, gene_space


def search(seed, screen_factor, align=1, snap_share=0.0, population=12, generations=12,
           coarse=0):
    genes = gene_space(step=1, min_keep=0.0, align=align)
    objectives = Objectives(mode="nsga2", baseline=Baseline(0.99, 2.0, 12800))
    init = initial_population(genes, population, np.random.default_rng(seed), 0.0)
    fake = FakeEvaluator()
    ga = GeneticSearch(genes, objectives, population=population, generations=generations,
                       seed=seed, offspring=population * screen_factor,
                       screen=SurrogateScreen(genes, seed=seed) if screen_factor > 1 else None,
                       snap_share=snap_share, coarse_generations=coarse)
    evals = ga.run(fake.evaluate, None, init)
    return non_dominated(evals, objectives), evals, fake


def on_steps(front):
    """Share of the front's channel counts of 8 or more that sit on a fast step (x8)."""
    counts = [c for e in front for c in e.channels.values() if c >= 8]
    return sum(c % 8 == 0 for c in counts) / len(counts)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ga_at_granularity_one_ends_on_the_fast_steps(seed):
    front, evals, fake = search(seed, screen_factor=4)
    assert fake.calls == len(evals) <= 12 * 12   # screening never evaluates more than that
    # Random counts land on a step 1 time in 8; the front must have found the staircase.
    assert on_steps(front) >= 0.75


def test_screened_evaluations_say_what_was_predicted():
    _, evals, _ = search(0, screen_factor=4)
    screened = [e for e in evals if "screened" in e.extra]
    assert screened and all(e.generation > 0 for e in screened)
    info = screened[-1].extra["screened"]
    assert info["from"] == 48 and info["how"] == "surrogate"
    assert info["predicted_latency"] > 0
    # The recorded latency is the device's, never the prediction.
    assert all(e.latency_ms["p50"] != e.extra["screened"]["predicted_latency"] for e in screened)


def test_screening_is_deterministic():
    a = search(5, screen_factor=4)[1]
    b = search(5, screen_factor=4)[1]
    assert [e.key for e in a] == [e.key for e in b]


def test_a_small_budget_reaches_the_steps_when_mutation_snaps_to_the_simd_hint():
    """The bench's budget (8 x 5): alone the GA is still walking towards the steps; told the
    profile's hint (8) and snapping half of its mutations, its fronts sit on them."""
    plain = [on_steps(search(s, 4, population=8, generations=5)[0]) for s in range(3)]
    snapped = [on_steps(search(s, 4, align=8, snap_share=0.5, population=8, generations=5)[0])
               for s in range(3)]
    assert min(snapped) >= 0.75 and np.median(snapped) > np.median(plain), (plain, snapped)


def test_coarse_generations_measure_only_the_grid_then_every_count():
    _, evals, fake = search(0, 4, align=8, population=8, generations=5, coarse=3)

    def on_grid(e):
        return all(c % 8 == 0 or c < 4 for c in e.channels.values())

    early = [e for e in evals if e.generation < 3]
    assert early and all(on_grid(e) for e in early)
    assert any(not on_grid(e) for e in evals if e.generation >= 3)   # then per channel
    assert fake.calls == len(evals) == len({e.key for e in evals})   # snapped twins measured once
    again = search(0, 4, align=8, population=8, generations=5, coarse=3)[1]
    assert [e.key for e in again] == [e.key for e in evals]          # resume replays it exactly


def test_aligned_moves_to_the_nearest_multiple_within_bounds_and_keeps_tiny_counts():
    genes = gene_space(step=1, min_keep=0.0, align=8)
    x = genes.encode({"conv1": 1, "layer1": 12, "layer2": 29, "layer3": 63})
    got = genes.decode(genes.aligned(x))
    assert got == {"conv1": 1, "layer1": 16, "layer2": 32, "layer3": 64}   # 12: tie goes up
    only = genes.decode(genes.aligned(x, [False, False, True, False]))
    assert only == {"conv1": 1, "layer1": 12, "layer2": 32, "layer3": 63}
    bounded = gene_space(step=1, min_keep=0.6, align=8)    # layer2 may not go below 20 of 32
    y = bounded.aligned(bounded.encode({"layer2": 20}))
    assert bounded.decode(y)["layer2"] == 24
    assert (gene_space(step=1, min_keep=0.0).aligned(x) == x).all()   # align 1: unchanged
