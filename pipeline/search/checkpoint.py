"""Atomic writes of the search state, so a crash or Ctrl-C never leaves a half-written file."""
from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.search.records import Evaluation


def write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False))
    os.replace(tmp, path)


def write_evaluations(path: Path, evaluations: list[Evaluation]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        for ev in evaluations:
            f.write(json.dumps(ev.to_json()) + "\n")
    os.replace(tmp, path)


def read_evaluations(path: Path) -> list[Evaluation]:
    if not path.is_file():
        return []
    return [Evaluation.from_json(json.loads(line)) for line in path.read_text().splitlines() if line]
