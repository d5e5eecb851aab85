"""latency_source=predicted: which of a generation's front members are measured.

The GA ranks on predicted latencies. Measuring every new front member each generation is what
an untried predictor needs, but it spends most of a search's measurements where the front is
wide: ResNet-20 on LiteRT measured 26-40 architectures for a final front of 14-15, most of them
front members for a generation or two. So each generation audits only `audit` of them, the
ones the finish would recover first (the fastest within its candidate gap, where a wrong
latency changes the winner): those still only predicted are measured, and a pick measured in
an earlier generation costs nothing again (a stable front's audit is free). When one of those
is more than `tolerance` off its prediction, the predictor is not trusted for this generation
and the rest of the front is measured too (those measurements refit it before the next
generation). The front audited is the one the run reports (search_stage.reported_front: its
floor leaves the junk out, so no latency of theirs is ever needed). The final front is always
measured in full (search_stage.measured_front): nothing reported is a prediction.

A shared host's bursts slow a measurement down for seconds, never speed it up (the bench saw
the same ResNet-20 measure 0.79x and 1.18x its prediction in two seeds). So an audit measured
more than `tolerance` slower than predicted is measured once more (`confirm`), the faster kept,
before the whole front is measured on its word: one measurement instead of ten when it was a
burst. One measured faster than predicted is a real miss and is not measured again.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.predictor.search_link import drifted


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
                and drifted(ev.latency_predicted_ms, ev.latency_ms["p50"], tolerance))


def audit_front(front: list, measure, audit: int, baseline_accuracy: float, gap: float,
                tolerance: float, confirm=None) -> AuditResult:
    """Audit the finish's first `audit` picks on the front (the whole front when audit < 0),
    measuring those only predicted; when one measured is more than `tolerance` off, measure
    the rest of the front too. `measure(evals)` measures the only-predicted ones of what it is
    given and returns them (Evaluator.measure_predicted); `confirm(evals)`, if given, measures
    those measured too slow once more, keeping the faster (Evaluator.measure_again)."""
    order = audit_order(front, baseline_accuracy, gap)
    if not any(e.only_predicted for e in order):
        return AuditResult()
    picks = order if audit < 0 else order[:audit]
    first = measure(picks)
    slow = [e for e in first if prediction_off(e, tolerance)
            and e.latency_ms["p50"] > e.latency_predicted_ms]
    if confirm is not None and slow:
        confirm(slow)
    off = sum(prediction_off(e, tolerance) for e in first)
    rest = measure(order[len(picks):]) if off else []
    again = len(slow) if confirm is not None else 0
    return AuditResult(len(first), off, len(first) + again + len(rest))
