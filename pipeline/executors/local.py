"""The default executor: every item in this process, one after the other."""
from __future__ import annotations

from pipeline.progress import progress


class LocalExecutor:
    name = "local"

    def map(self, fn, items, shared=None, desc: str = "") -> list:
        items = list(items)
        bar = progress(items, desc=desc, unit="task") if desc and len(items) > 1 else items
        return [fn(shared, item) for item in bar]

    def close(self) -> None:
        pass
