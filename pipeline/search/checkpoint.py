"""Atomic writes of the search state, so a crash or Ctrl-C never leaves a half-written file."""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.errors import UserError
from pipeline.search.records import Evaluation


def write_json_atomic(path: Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False))


def write_evaluations(path: Path, evaluations: list[Evaluation]) -> None:
    write_text_atomic(path, "".join(json.dumps(ev.to_json()) + "\n" for ev in evaluations))


def read_evaluations(path: Path) -> list[Evaluation]:
    if not path.is_file():
        return []
    evaluations = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            evaluations.append(Evaluation.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"'{path}' line {number} is not an evaluation record "
                            f"({type(exc).__name__}); restore the file or start a new run") from None
    return evaluations
