"""Per-seed checkpoints for benches that run for an hour: one JSON line a finished seed, keyed
by everything that decides its figures, so a rerun after an interruption redoes only the
unfinished seeds, and a rerun with other settings redoes everything.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


class SeedCheckpoint:
    def __init__(self, path: Path):
        self.path = Path(path)

    @staticmethod
    def _key(key: dict) -> str:
        return json.dumps(key, sort_keys=True, default=str)

    def done(self, key: dict) -> dict:
        """{seed: entry} of the seeds finished under `key`. A line that does not parse is what
        a killed writer leaves (only ever the last one): it is skipped and its seed redone."""
        if not self.path.is_file():
            return {}
        wanted, out = self._key(key), {}
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and row.get("key") == wanted and "entry" in row:
                out[row["seed"]] = row["entry"]
        return out

    def add(self, key: dict, seed: int, entry: dict) -> None:
        """Append one finished seed; flushed to disk before the next seed starts."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": self._key(key), "seed": seed, "entry": entry}, default=str)
        with open(self.path, "a", encoding="utf-8") as f:
            if f.tell() and not self.path.read_bytes().endswith(b"\n"):
                f.write("\n")   # end a torn line so this one parses
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
