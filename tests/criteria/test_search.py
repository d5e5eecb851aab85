"""The weight search: seeded, bounded, never worse on its data than a representative alone."""
import pytest


def _probe(trained, digits8, batches, x_slice):
    import torch

    from pipeline.criteria.search import Probe
    from pipeline.prune import SearchSpace

    example = torch.zeros(digits8.input_shape)
    space = SearchSpace.from_model(trained, example)
    targets = {"uniform-0.5": space.uniform(0.5), "uniform-0.3": space.uniform(0.3)}
    return Probe(trained, example, targets, batches, digits8.x_val[x_slice], digits8.y_val[x_slice])


def _search(trained, digits8, batches, seed):
    from pipeline.criteria.search import WeightSearch

    search = WeightSearch(("l1", "fpgm", "bn"), population=5, generations=3, seed=seed)
    best = search.run(_probe(trained, digits8, batches, slice(0, 96)))
    return search, best


def test_same_seed_same_weights_and_the_best_beats_every_single_criterion(trained, digits8, batches):
    first, best = _search(trained, digits8, batches, seed=3)
    again, best_again = _search(trained, digits8, batches, seed=3)
    assert best_again == best
    assert [c.weights for c in again.candidates] == [c.weights for c in first.candidates]
    singles = [c for c in first.candidates if max(c.weights) == 1.0]
    assert len(singles) == 3                          # every representative alone was tried
    assert best.fitness == max(c.fitness for c in first.candidates)
    assert all(best.fitness >= c.fitness for c in singles)
    assert all(abs(sum(c.weights) - 1) < 1e-3 for c in first.candidates)
    # bounded: at most population x generations evaluations, equal weights evaluated once
    assert len(first.candidates) <= 5 * 3
    assert len({c.weights for c in first.candidates}) == len(first.candidates)


def test_another_seed_searches_other_weights(trained, digits8, batches):
    first, _ = _search(trained, digits8, batches, seed=3)
    other, _ = _search(trained, digits8, batches, seed=4)
    assert [c.weights for c in other.candidates] != [c.weights for c in first.candidates]


def test_probe_accuracy_is_the_step1_estimate(trained, digits8, batches):
    import torch

    from pipeline.prune import apply_genome
    from pipeline.recover import evaluate, recalibrate_bn

    probe = _probe(trained, digits8, batches, slice(0, 64))
    acc = probe.accuracy("l2")
    model = apply_genome(trained, probe.targets["uniform-0.3"], torch.zeros(digits8.input_shape),
                         importance="l2")
    recalibrate_bn(model, [x for x, _ in batches])
    assert acc["uniform-0.3"] == pytest.approx(evaluate(model, digits8.x_val[:64],
                                                        digits8.y_val[:64]))
    assert probe.evaluations == 2 and probe.seconds > 0
