"""The rank agreement the bench reports for accuracy estimates."""
import pytest

from pipeline.search.estimates import kendall_tau


def test_same_order_is_one_and_reversed_is_minus_one():
    truth = [0.91, 0.95, 0.97, 0.99]
    assert kendall_tau([0.5, 0.6, 0.7, 0.8], truth) == pytest.approx(1.0)
    assert kendall_tau([0.8, 0.7, 0.6, 0.5], truth) == pytest.approx(-1.0)


def test_one_swapped_pair_of_four():
    # 6 pairs, one discordant: (5 - 1) / 6
    assert kendall_tau([1, 2, 4, 3], [1, 2, 3, 4]) == pytest.approx(4 / 6)


def test_constant_estimate_ranks_nothing():
    assert kendall_tau([0.9, 0.9, 0.9], [0.1, 0.2, 0.3]) == 0.0


def test_lengths_must_match():
    with pytest.raises(ValueError):
        kendall_tau([1, 2], [1, 2, 3])
