"""What full recovery will make of a search estimate, learned from this task's own recoveries.

The search's accuracy estimates rank architectures well (bench/estimate_rank.py) but sit far
below what recovery reaches where pruning is deep: a 94% step-2 estimate recovers to 99.2% on
digits. So "fastest within 1 point" judged on raw estimates names an architecture three times
slower than the winner the finish then verifies. Every finish stage recovers a few front
members and so pays for (estimate, recovered accuracy) pairs; they are kept in the cache per
task (the trained model's weights, the data, and every setting the estimates and the recovery
depend on), and a monotone map from estimate to recovered accuracy is fitted on them, one per
estimate step (a step-2 estimate and a BN-only one are different scales).

Until a task has recoveries of its own there is nothing to calibrate on: the outlook then names
the fastest architecture the finish may pick (the fastest rung of the ladder of front members
whose estimate is within `recover.candidate_gap`, which the finish bisects from the middle),
and says it is uncalibrated. Calibrated, its answer is also where the finish starts.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MIN_PAIRS = 3          # per estimate step, with two distinct estimates, before a map is fitted
MAX_PAIRS = 200        # newest kept: a task's outlook follows its latest recoveries
VERSION = 1


def task_key(cfg, base_model) -> str:
    """The cache key of a task: recoveries are comparable only within one."""
    digest = hashlib.sha1()
    for name, tensor in sorted(base_model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    s = cfg.search
    ident = {"version": VERSION, "weights": digest.hexdigest(), "model": cfg.model.name,
             "data": asdict(cfg.data), "recover": asdict(cfg.recover),
             "estimates": {k: getattr(s, k) for k in (
                 "supernet_epochs", "supernet_lr", "estimate_steps", "estimate_lr",
                 "front_finetune_steps", "calib_batches", "val_subset", "importance")}}
    return hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class RecoveryOutlook:
    pairs: list[dict] = field(default_factory=list)   # {"key", "step", "estimate", "recovered"}
    path: Path | None = None
    _maps: dict = field(default_factory=dict, repr=False)   # step -> fitted map, until add()

    # -- storage ------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path) -> "RecoveryOutlook":
        """The task's stored pairs; a missing or unreadable file is an empty outlook (the
        pairs only sharpen a progress line, so a damaged file costs nothing but that)."""
        path = Path(path)
        pairs = []
        try:
            data = json.loads(path.read_text())
            pairs = [p for p in data.get("pairs", []) if _valid(p)]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError):
            from pipeline.progress import status

            status(f"recovery outlook: '{path}' is unreadable; starting without it (the next "
                   f"finish replaces it)")
        return cls(pairs=pairs, path=path)

    def add(self, key: str, step: str, estimate: float, recovered: float) -> None:
        """One recovery of architecture `key`; a repeat (a resumed run's finish) replaces it."""
        self.pairs = [p for p in self.pairs if (p.get("key"), p["step"]) != (key, step)]
        self.pairs.append({"key": key, "step": step, "estimate": float(estimate),
                           "recovered": float(recovered)})
        self.pairs = self.pairs[-MAX_PAIRS:]
        self._maps.clear()

    def save(self) -> None:
        from pipeline.search.checkpoint import write_json_atomic

        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path, {"version": VERSION, "pairs": self.pairs})

    # -- use ------------------------------------------------------------------------------------
    def count(self, step: str) -> int:
        return sum(p["step"] == step for p in self.pairs)

    def expected(self, step: str, estimate: float) -> float | None:
        """Expected validation accuracy after recovery, or None with too few pairs of `step`."""
        from pipeline.search.estimates import monotone_map

        if step not in self._maps:
            mine = [p for p in self.pairs if p["step"] == step]
            xs = [p["estimate"] for p in mine]
            enough = len(mine) >= MIN_PAIRS and len(set(xs)) >= 2
            self._maps[step] = monotone_map(xs, [p["recovered"] for p in mine]) if enough else None
        predict = self._maps[step]
        return None if predict is None else float(predict([estimate])[0])

    def seen(self, step: str) -> tuple[float, float] | None:
        """The range of `step`'s estimates whose recovery this task has seen."""
        xs = [p["estimate"] for p in self.pairs if p["step"] == step]
        return (min(xs), max(xs)) if xs else None

    def lowest_within(self, step: str, line: float) -> float | None:
        """The lowest estimate of `step` seen to recover to `line` or above, once the step is
        calibrated (MIN_PAIRS); else None."""
        xs = [p["estimate"] for p in self.pairs if p["step"] == step and p["recovered"] >= line]
        return min(xs) if xs and self.expected(step, min(xs)) is not None else None


def _valid(p) -> bool:
    return (isinstance(p, dict) and isinstance(p.get("step"), str)
            and all(isinstance(p.get(k), (int, float)) and 0.0 <= p[k] <= 1.0
                    for k in ("estimate", "recovered")))


@dataclass
class Outlook:
    """The progress line's answer: which architecture, and on what grounds."""
    ev: object
    how: str          # "recovered" (in this run) | "calibrated" | "fastest candidate"
    expected: float | None = None
    pairs: int = 0


def recovery_ladder(front: list, baseline_acc: float, max_drop: float, candidate_gap: float,
                    outlook: RecoveryOutlook | None, seen_within: float | None = None) -> list:
    """The front members the finish may recover, fastest first: estimate within
    `candidate_gap` of the baseline, or, where this task has seen an estimate of the same step
    recover within the drop, within `candidate_gap` of that one (on digits an estimate of 86%
    recovered to 98%: the baseline's gap alone would skip every faster member).
    `seen_within`: the lowest estimate recovered within the drop in this run, of any step."""
    line, gap_floor = baseline_acc - max_drop, baseline_acc - candidate_gap
    if seen_within is not None:
        gap_floor = min(gap_floor, seen_within - candidate_gap)

    def floor(e) -> float:
        low = outlook.lowest_within(e.error_step, line) if outlook is not None else None
        return gap_floor if low is None else min(gap_floor, low - candidate_gap)

    return sorted((e for e in front if e.accuracy >= floor(e)), key=lambda e: e.latency_objective())


def fastest_after_recovery(front: list, baseline_acc: float, max_drop: float,
                           candidate_gap: float, outlook: RecoveryOutlook | None, line=None):
    """The front member expected to be the fastest within `max_drop` after recovery, among
    those the finish may recover (recovery_ladder). Only estimates inside the range this task
    has seen recovered are expected anything (below it the map would only repeat its lowest
    pair). With no recoveries of the members' estimate steps yet, the ladder's fastest rung:
    the most the finish can deliver (it bisects the ladder from the middle, finish.py).
    `line` (search/line.LineSearch): this run's recoveries so far; its fastest pass is the
    answer unless a calibrated expectation names a faster member."""
    found = line.fastest_pass() if line is not None else None
    ladder = (line.ladder(front) if line is not None else
              recovery_ladder(front, baseline_acc, max_drop, candidate_gap, outlook))
    calibrated = _calibrated(ladder, outlook)
    expected = next((Outlook(e, "calibrated", x, outlook.count(e.error_step))
                     for e, x in calibrated if x >= baseline_acc - max_drop), None)
    if found is not None and (expected is None or
                              expected.ev.latency_objective() >= found[0].latency_objective()):
        return Outlook(found[0], "recovered", found[1], len(line.results))
    if calibrated:   # None: calibrated, and no member expected within the drop
        return expected
    if line is not None and line.results:   # only failures so far: one none of them rules out
        ladder = line.region(front)
    return Outlook(ladder[0], "fastest candidate") if ladder else None


def _calibrated(ladder: list, outlook) -> list:
    """[(member, expected recovered accuracy)] for the ladder members the outlook can map:
    their step calibrated, their estimate inside the range it has seen recovered."""
    calibrated = []
    for e in ladder:
        seen = outlook.seen(e.error_step) if outlook is not None else None
        x = outlook.expected(e.error_step, e.accuracy) if seen else None
        if x is not None and e.accuracy >= seen[0]:
            calibrated.append((e, x))
    return calibrated


def describe(o: Outlook | None, unit: str) -> str:
    if o is None:
        return "after recovery: none expected within 1 point yet"
    if o.how == "recovered":
        return (f"after recovery {o.ev.latency_objective():.3f} {unit} ({o.ev.id}, recovered "
                f"{100 * o.expected:.1f}%; {o.pairs} recovered in this run)")
    if o.how == "calibrated":
        return (f"after recovery {o.ev.latency_objective():.3f} {unit} ({o.ev.id}, expected "
                f"{100 * o.expected:.1f}% from {o.pairs} recoveries)")
    return (f"fastest candidate {o.ev.latency_objective():.3f} {unit} ({o.ev.id}, "
            f"uncalibrated)")
