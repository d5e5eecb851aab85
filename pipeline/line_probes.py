"""Line probes: recoveries during the search that find where the 1-point line cuts the front.

The search's estimates sit far below recovered accuracy where pruning is deep, so before any
recovery its "fastest within 1 point" can name an architecture two or three times slower than
the one the finish then verifies. `search.line_probes` recoveries, spread over the generations
(the last one in the last generation), recover the member the line search picks
(search/line.py: the fastest candidate first, or where a calibrated outlook expects the line),
so the progress line reports what recovery made of it, and the finish starts from those
results instead of from nothing. A probe is the same recovery the finish runs (same seed, same
starting weights); its model is kept for the finish.

Results are kept in the run folder (`line_probes.json`), so a resumed run replays them rather
than paying for them again; the finish recovers a replayed winner again (seeded, the same
model).
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.progress import status
from pipeline.search.checkpoint import write_json_atomic

FILE = "line_probes.json"


def probe_generations(count: int, generations: int) -> set[int]:
    """The 0-based generations after which a probe runs: evenly spread, ending at the last."""
    count = min(max(count, 0), generations)
    return {round(generations * (k + 1) / count) - 1 for k in range(count)} if count else set()


class LineProbes:
    def __init__(self, line, count: int, generations: int, run_dir: Path, executor, shared):
        """line: the run's LineSearch; shared: what finish._recover_task needs."""
        self.line, self.executor, self.shared = line, executor, shared
        self.due = probe_generations(count, generations)
        self.path = Path(run_dir) / FILE
        self.recovered: dict = {}          # key -> finish.Recovered, for the finish
        self.stored = _read(self.path)     # key -> recovered accuracy, from an earlier session

    def after_generation(self, generation: int, front: list) -> None:
        """Recover the line search's next pick if a probe is due after this generation."""
        if generation not in self.due:
            return
        ev = self.line.next(front, self.line.calibrated_start(front), fastest_first=True)
        if ev is None:
            return
        if ev.key in self.stored:
            accuracy = self.stored[ev.key]
            status(f"line probe {ev.id}: recovered to {100 * accuracy:.2f}% earlier in this "
                   f"run folder")
        else:
            from pipeline.finish import _recover_task

            status(f"line probe after generation {generation + 1}: recovering {ev.id} to see "
                   f"where the 1-point line cuts the front")
            (rec,) = self.executor.map(_recover_task, [ev], shared=self.shared)
            self.recovered[ev.key] = rec
            accuracy = self.stored[ev.key] = rec.accuracy_val
            write_json_atomic(self.path, {"probes": [
                {"key": k, "accuracy_val": a} for k, a in self.stored.items()]})
        self.line.add(ev, accuracy)


def _read(path: Path) -> dict:
    """The stored probes; a damaged file only costs the recoveries again."""
    try:
        data = json.loads(path.read_text())
        return {p["key"]: float(p["accuracy_val"]) for p in data["probes"]
                if isinstance(p.get("key"), str) and 0.0 <= float(p["accuracy_val"]) <= 1.0}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        status(f"line probes: '{path}' is unreadable; probing again")
        return {}
