"""latency_source=predicted: which of a generation's front members are measured.

The GA ranks on predicted latencies. Measuring every new front member each generation is what
an untried predictor needs, but it spends most of a search's measurements where the front is
wide: ResNet-20 on LiteRT measured 26-40 architectures for a final front of 14-15, most of them
front members for a generation or two. So each generation measures only `audit` of them, the
ones the finish would recover first (the fastest within its candidate gap, where a wrong
latency changes the winner); when one of those is more than `tolerance` off its prediction,
the predictor is not trusted for this generation and the rest of the front is measured too
(those measurements refit it before the next generation). The final front is always measured
in full (search_stage.measured_front): nothing reported is a prediction.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AuditResult:
    audited: int = 0      # front members measured as the audit
    off: int = 0          # of those, more than the tolerance off their prediction
    measured: int = 0     # all front members measured now (audit and, if off, the rest)


def audit_order(members: list, baseline_accuracy: float, gap: float) -> list:
    """What the finish would recover first comes first: within `gap` of the baseline's
    accuracy, fastest first; then the rest, fastest first."""
    near = [e for e in members if e.accuracy >= baseline_accuracy - gap]
    far = [e for e in members if e.accuracy < baseline_accuracy - gap]
    return (sorted(near, key=lambda e: e.latency_objective())
            + sorted(far, key=lambda e: e.latency_objective()))


def prediction_off(ev, tolerance: float) -> bool:
    """A measured evaluation whose prediction was more than `tolerance` off the measurement."""
    return bool(ev.latency_ms and ev.latency_predicted_ms
                and abs(ev.latency_predicted_ms / ev.latency_ms["p50"] - 1) > tolerance)


def audit_front(front: list, measure, audit: int, baseline_accuracy: float, gap: float,
                tolerance: float) -> AuditResult:
    """Measure `audit` of the front's predicted-only members (all of them when audit < 0, or
    when one audited is more than `tolerance` off). `measure(evals)` measures and returns the
    ones it measured (Evaluator.measure_predicted)."""
    todo = audit_order([e for e in front if e.latency_source == "predicted" and not e.latency_ms],
                       baseline_accuracy, gap)
    if not todo:
        return AuditResult()
    if audit < 0 or len(todo) <= audit:
        done = measure(todo)
        return AuditResult(len(done), sum(prediction_off(e, tolerance) for e in done), len(done))
    first = measure(todo[:audit])
    off = sum(prediction_off(e, tolerance) for e in first)
    rest = measure(todo[audit:]) if off else []
    return AuditResult(len(first), off, len(first) + len(rest))
