"""Rank agreement of criteria and the clustering built on it."""
import numpy as np
import pytest

from pipeline.criteria.agreement import (agreement_matrix, cluster_criteria, group_scores,
                                         rank_correlation)


@pytest.mark.parametrize("method", ["spearman", "kendall"])
def test_identical_criteria_agree_fully_and_reversed_ones_disagree_fully(method):
    rng = np.random.default_rng(0)
    groups = {f"g{i}": rng.normal(size=6 + i) for i in range(3)}
    scores = {name: {"a": s, "same": s * 3 + 1, "reversed": -s} for name, s in groups.items()}
    matrix, pairs = agreement_matrix(scores, ("a", "same", "reversed"), method)
    assert matrix[0, 1] == pytest.approx(1.0) and matrix[1, 0] == pytest.approx(1.0)
    assert matrix[0, 2] == pytest.approx(-1.0) and matrix[1, 2] == pytest.approx(-1.0)
    assert pairs[0, 2] == 3


def test_a_group_that_cannot_rank_says_nothing_about_the_pair():
    scores = {"flat": {"a": np.ones(4), "b": np.arange(4.0)},
              "ranked": {"a": np.arange(4.0), "b": np.arange(4.0)[::-1].copy()},
              "missing": {"a": np.arange(4.0)}}          # b has nothing to score here
    matrix, pairs = agreement_matrix(scores, ("a", "b"))
    assert pairs[0, 1] == 1 and matrix[0, 1] == pytest.approx(-1.0)
    assert rank_correlation(np.ones(3), np.arange(3.0)) is None


def test_independent_random_scores_agree_little():
    rng = np.random.default_rng(1)
    scores = {f"g{i}": {"a": rng.normal(size=64), "b": rng.normal(size=64)} for i in range(20)}
    matrix, _ = agreement_matrix(scores, ("a", "b"))
    assert abs(matrix[0, 1]) < 0.15


def test_clustering_recovers_a_planted_structure():
    names = ("l1", "l2", "fpgm", "bn", "taylor")
    planted = np.array([[1.0, 0.95, 0.9, 0.1, 0.0],
                        [0.95, 1.0, 0.92, 0.05, 0.1],
                        [0.9, 0.92, 1.0, 0.0, 0.05],
                        [0.1, 0.05, 0.0, 1.0, 0.2],
                        [0.0, 0.1, 0.05, 0.2, 1.0]])
    result = cluster_criteria(planted, names, threshold=0.2)
    assert sorted(map(sorted, result.clusters)) == [["bn"], ["fpgm", "l1", "l2"], ["taylor"]]
    # l2 agrees most with the rest of its cluster
    assert set(result.representatives) == {"l2", "bn", "taylor"}
    # a threshold above every distance puts all in one cluster, none splits at 0
    assert len(cluster_criteria(planted, names, threshold=2.0).clusters) == 1
    assert len(cluster_criteria(planted, names, threshold=0.0).clusters) == 5


def test_scores_of_a_real_model_cover_every_group_and_criterion(trained, digits8, batches):
    import torch

    from pipeline.prune import SearchSpace

    example = torch.zeros(digits8.input_shape)
    grads = [None if p.grad is None else p.grad.clone() for p in trained.parameters()]
    scores = group_scores(trained, example, batches=batches)
    space = SearchSpace.from_model(trained, example)
    assert set(scores) == {g.name for g in space.groups}
    for g in space.groups:
        assert set(scores[g.name]) == {"l1", "l2", "fpgm", "bn", "taylor"}
        assert all(len(s) == g.channels for s in scores[g.name].values())
    matrix, _ = agreement_matrix(scores)
    assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    # l1 and l2 norms of the same filters rank alike; not identically
    assert 0.5 < matrix[0, 1] < 1.0
    # taylor's gradients were taken on a copy: the caller's model is untouched
    for before, p in zip(grads, trained.parameters()):
        assert (p.grad is None) if before is None else torch.equal(p.grad, before)
