"""Atomic writes of the search state, so a crash or Ctrl-C never leaves a half-written file."""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.search.records import Evaluation


def write_json_atomic(path: Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False))


def write_evaluations(path: Path, evaluations: list[Evaluation]) -> None:
    write_text_atomic(path, "".join(json.dumps(ev.to_json()) + "\n" for ev in evaluations))


def read_evaluations(path: Path) -> list[Evaluation]:
    if not path.is_file():
        return []
    return [Evaluation.from_json(json.loads(line)) for line in path.read_text().splitlines() if line]
