import math

import numpy as np
import pytest

from pipeline.devices.stats import (LatencyStats, coefficient_of_variation, percentile,
                                    moved, relative_change, summarize)


def test_summarize_matches_numpy_on_unsorted_samples():
    samples = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 2.5]
    stats = summarize(samples)
    assert stats.p50_ms == pytest.approx(np.percentile(samples, 50))
    assert stats.p90_ms == pytest.approx(np.percentile(samples, 90))
    assert stats.iqr_ms == pytest.approx(np.percentile(samples, 75) - np.percentile(samples, 25))
    assert stats.mean_ms == pytest.approx(np.mean(samples))
    assert (stats.min_ms, stats.max_ms, stats.n) == (1.0, 10.0, 7)
    assert stats.samples_ms == tuple(samples)  # order kept: drift within a run stays visible


def test_median_of_even_count_interpolates():
    assert summarize([1.0, 2.0, 3.0, 4.0]).p50_ms == 2.5


def test_every_sample_counts():
    # An off-by-one that drops the first or last sample changes the minimum or maximum here.
    stats = summarize([0.5] + [1.0] * 8 + [9.0])
    assert (stats.n, stats.min_ms, stats.max_ms) == (10, 0.5, 9.0)


def test_single_sample():
    stats = summarize([3.0])
    assert (stats.p50_ms, stats.p90_ms, stats.iqr_ms, stats.n) == (3.0, 3.0, 0.0, 1)


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [1.0, -0.1], [math.inf]])
def test_bad_samples_raise(bad):
    with pytest.raises(ValueError):
        summarize(bad)


def test_round_trip_through_json_dict():
    stats = summarize([1.0, 2.0, 4.0])
    assert LatencyStats.from_dict(stats.to_dict()) == stats
    assert isinstance(stats.to_dict()["samples_ms"], list)


def test_percentile_bounds():
    assert percentile([1.0, 2.0], 0) == 1.0 and percentile([1.0, 2.0], 100) == 2.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_coefficient_of_variation_and_relative_change():
    values = [1.0, 1.1, 0.9]
    assert coefficient_of_variation(values) == pytest.approx(np.std(values, ddof=1) / 1.0)
    assert coefficient_of_variation([2.0]) == 0.0
    assert relative_change(2.0, 2.2) == pytest.approx(0.1)
    assert relative_change(2.0, 1.8) == pytest.approx(0.1)


def test_moved_needs_both_the_relative_and_the_absolute_change():
    assert moved(1.0, 1.2, tolerance=0.1)
    assert not moved(1.0, 1.05, tolerance=0.1)
    assert not moved(0.03, 0.05, tolerance=0.1, min_change_ms=0.05)   # +67%, but 0.02 ms
    assert moved(0.3, 0.5, tolerance=0.1, min_change_ms=0.05)
