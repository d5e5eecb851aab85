"""bench.latency_vs_macs' figures on known data: rank agreement, and the room at equal MACs."""
import pytest

from bench.latency_vs_macs import room


def test_latency_ordered_by_macs_has_rho_one_and_no_room_between_distinct_macs():
    r = room([1, 2, 3, 4, 5], [0.1, 0.2, 0.3, 0.4, 0.5])
    assert r["spearman"] == pytest.approx(1.0)
    assert r["compared"] == 0 and r["fastest_vs_median"] is None   # no equals to compare


def test_at_equal_macs_the_fastest_is_compared_with_the_median():
    # three architectures within 5% of each other's MACs: 0.5 / 1.0 for each of them
    r = room([100, 101, 102, 300], [1.0, 0.5, 1.5, 2.0])
    assert r["compared"] == 3
    assert r["fastest_vs_median"] == pytest.approx(0.5)
    assert r["fastest_vs_median_p10"] == pytest.approx(0.5)


def test_macs_that_disagree_with_latency_show_a_negative_rank():
    assert room([1, 2, 3, 4], [0.4, 0.3, 0.2, 0.1])["spearman"] == pytest.approx(-1.0)
