"""Where the 1-point line cuts the front: which member to recover next, and what was found.

Only a full recovery says whether an architecture keeps its accuracy within the allowed drop;
the search's estimates rank well but sit far below recovered accuracy where pruning is deep
(on digits an 87% estimate recovered to 98.2%). So the line is found by recovering front
members, and every recovery is kept: the search's line probes (pipeline/line_probes.py) and
the finish add to one `LineSearch`, and the finish goes on from what the probes found.

Recovered accuracy falls, roughly monotonically, as the front gets faster. A pass bounds the
line from above (the next try is faster), a failure from below (slower); what is left to try
is the region between the fastest pass and the slowest failure faster than it. A pass also
widens the ladder: members whose estimate is within `candidate_gap` of a passing one may be
tried, however far below the baseline's estimate they sit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.search.outlook import recovery_ladder


@dataclass
class LineSearch:
    baseline_acc: float
    max_drop: float
    candidate_gap: float
    outlook: object = None                           # RecoveryOutlook: widens the ladder too
    results: dict = field(default_factory=dict)      # key -> (Evaluation, recovered accuracy)
    anchored: bool = False                           # the first try was a guess near the line

    @property
    def line(self) -> float:
        return self.baseline_acc - self.max_drop

    def add(self, ev, accuracy: float) -> None:
        self.results[ev.key] = (ev, float(accuracy))

    def passed(self, ev) -> bool:
        return self.results[ev.key][1] >= self.line

    def fastest_pass(self):
        """(Evaluation, recovered accuracy) of the fastest member recovered within the drop."""
        ok = [r for r in self.results.values() if r[1] >= self.line]
        return min(ok, key=lambda r: r[0].latency_objective()) if ok else None

    def ladder(self, front: list) -> list:
        """The members that may be recovered, fastest first (search/outlook.recovery_ladder),
        the gap also measured from the lowest estimate recovered within the drop here."""
        ok = [ev.accuracy for ev, acc in self.results.values() if acc >= self.line]
        return recovery_ladder(front, self.baseline_acc, self.max_drop, self.candidate_gap,
                               self.outlook, seen_within=min(ok) if ok else None)

    def ruled_out(self, e) -> bool:
        """A failure at least as slow and as well estimated as `e`: `e` is expected to fail
        too. (A failure that has left the front rules out only what it dominates: a faster
        member estimated higher, found later, is still worth a try.)"""
        return any(acc < self.line and f.latency_objective() >= e.latency_objective()
                   and f.accuracy >= e.accuracy for f, acc in self.results.values())

    def region(self, front: list) -> list:
        """Ladder members still open, fastest first: not recovered, faster than the fastest
        pass, not ruled out by a failure."""
        best = self.fastest_pass()
        top = best[0].latency_objective() if best else math.inf
        return [e for e in self.ladder(front) if e.key not in self.results
                and e.latency_objective() < top and not self.ruled_out(e)]

    def next(self, front: list, start_key: str | None = None, fastest_first: bool = False):
        """The member to recover next, or None once the line is placed between two neighbours.

        First try: `start_key` (where a calibrated outlook expects the line), else the
        ladder's fastest rung with `fastest_first` (what the progress line names before any
        recovery), else its middle (where accuracy binds, the line sits high up the front).
        From a first guess the tries step 1, 2, 4 rungs away while the answer stays the same;
        once the line is bounded on both sides, or from the middle, they bisect."""
        region = self.region(front)
        if not region:
            return None
        if not self.results:
            keyed = [e for e in region if e.key == start_key]
            self.anchored = bool(keyed) or fastest_first
            return keyed[0] if keyed else region[0] if fastest_first else region[
                (len(region) - 1) // 2]
        passed = self.fastest_pass() is not None
        failed = any(acc < self.line for _, acc in self.results.values())
        if self.anchored and passed != failed:
            step = 2 ** (len(self.results) - 1)
            # Passes only: step faster from the fastest pass; failures only: slower.
            return region[max(len(region) - step, 0)] if passed else region[
                min(step - 1, len(region) - 1)]
        return region[(len(region) - 1) // 2]

    def calibrated_start(self, front: list) -> str | None:
        """The key of the member a calibrated outlook expects to be the fastest within the
        drop (search/outlook.py), where the first try goes; None when uncalibrated."""
        from pipeline.search.outlook import fastest_after_recovery

        o = fastest_after_recovery(front, self.baseline_acc, self.max_drop, self.candidate_gap,
                                   self.outlook)
        return o.ev.key if o is not None and o.how == "calibrated" else None
