"""Latency statistics: one pure function from raw samples to the numbers we report.

Kept apart from the timing loop on purpose: off-by-one warm-up bugs hide in long loops
(Olive's `if i > warmup_num` silently drops a sample). The runner returns every timed sample;
warm-up runs never reach this function.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LatencyStats:
    p50_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    iqr_ms: float
    n: int
    samples_ms: tuple[float, ...]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["samples_ms"] = list(self.samples_ms)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "LatencyStats":
        fields = dict(data)
        fields["samples_ms"] = tuple(float(x) for x in fields.get("samples_ms", ()))
        fields["n"] = int(fields["n"])
        return cls(**fields)


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on pre-sorted values."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def summarize(samples_ms) -> LatencyStats:
    """Statistics of timed samples (milliseconds), in the order they were taken."""
    samples = tuple(float(x) for x in samples_ms)
    if not samples:
        raise ValueError("summarize needs at least one timed sample")
    if any(not math.isfinite(x) or x < 0 for x in samples):
        raise ValueError("latency samples must be finite and non-negative")
    ordered = sorted(samples)
    return LatencyStats(
        p50_ms=percentile(ordered, 50),
        p90_ms=percentile(ordered, 90),
        mean_ms=math.fsum(samples) / len(samples),
        min_ms=ordered[0],
        max_ms=ordered[-1],
        iqr_ms=percentile(ordered, 75) - percentile(ordered, 25),
        n=len(samples),
        samples_ms=samples,
    )


def coefficient_of_variation(values) -> float:
    """Sample standard deviation over mean (0 for a single value): the spread of medians."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("coefficient of variation of no values")
    mean = math.fsum(values) / len(values)
    if len(values) == 1 or mean == 0:
        return 0.0
    variance = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return math.sqrt(variance) / mean


def relative_change(reference: float, value: float) -> float:
    """|value - reference| / reference: how far a re-measured reference moved."""
    if reference <= 0:
        raise ValueError("reference latency must be positive")
    return abs(value - reference) / reference


def moved(reference: float, value: float, tolerance: float, min_change_ms: float = 0.0) -> bool:
    """True when a re-measured latency left `tolerance` (relative) AND moved more than
    `min_change_ms`: below that floor a change is timer and scheduler noise, which on a
    0.03 ms model is easily 50% and says nothing about the device."""
    return (relative_change(reference, value) > tolerance
            and abs(value - reference) > min_change_ms)


def latency_dict(stats: LatencyStats) -> dict:
    """{p50, p90, mean, min, max, iqr, n} in ms, as run files and manifests write latency.

    The raw samples stay out: hundreds per model would bloat evaluations.jsonl.
    """
    return {k.removesuffix("_ms"): v for k, v in stats.to_dict().items() if k != "samples_ms"}


def sample_list(samples_ms, digits: int = 4) -> list[float]:
    """The raw samples in ms, rounded (0.1 us) for the few files that keep them: manifests."""
    return [round(float(s), digits) for s in samples_ms]
