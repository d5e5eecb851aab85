"""The run folder on the way in: a new run gets a folder of its own, a resumed run a checkpoint
that reads back.

A folder holding a run is never written into by a new run (it would overwrite that run's
config and status); a run that fails while setting up leaves no half-made folder; a resume
reads every checkpoint file before it changes anything, so a corrupt one is refused in one
line and a finished run is left as it is.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from pipeline.errors import UserError
from pipeline.paths import show_path, user_path
from pipeline.progress import status

# Any of these means the folder holds (part of) a run.
RUN_FILES = ("config.toml", "status.json", "search_state.json", "evaluations.jsonl",
             "sensitivity.json", "pareto.json")
# Files that hold paid-for search work: a failure after one exists keeps the folder.
WORK_FILES = ("evaluations.jsonl", "sensitivity.json", "search_state.json")


def new_run_dir(out: str | None) -> Path:
    """The folder for a new run, checked but not created (nothing is written yet)."""
    path = Path(out) if out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    if not out:   # two runs started in the same second each get a folder of their own
        stem, n = path, 1
        while path.exists():
            n += 1
            path = stem.with_name(f"{stem.name}-{n}")
    shown = show_path(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
        if is_dir and any(p.name in RUN_FILES for p in path.iterdir()):
            raise UserError(f"'{shown}' holds a run already; continue it with `edgeprune run "
                            f"--resume {shown}`, or pass another --out")
        if is_dir and any(path.iterdir()):
            raise UserError(f"output folder '{shown}' is not empty; pass a new or empty --out DIR")
    except OSError as exc:
        raise UserError(f"output folder '{shown}' cannot be used ({exc.strerror or exc}); "
                        "pass another --out DIR") from None
    if exists and not is_dir:
        raise UserError(f"output folder '{shown}' is a file; pass a folder to --out")
    parent = path if exists else next((p for p in path.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to output folder '{shown}' ({show_path(parent)} is not a "
                        "writable folder); pass a writable --out DIR")
    return path


def make_run_dir(run_dir: Path) -> bool:
    """Create the folder `new_run_dir` accepted; True when this call created it."""
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder '{show_path(run_dir)}' "
                        f"({exc.strerror or exc}); pass a writable --out DIR") from None
    return created


def discard_unstarted(run_dir: Path, created: bool) -> None:
    """After a failure before any search work was saved: remove what the run wrote (the whole
    folder when the run created it; it was empty otherwise), so no half-made run is left."""
    if has_work(run_dir) or not run_dir.is_dir():
        return
    if created:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        for child in run_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    status(f"set-up failed: removed the unfinished run folder {show_path(run_dir)}")


def has_work(run_dir: Path) -> bool:
    return any((run_dir / name).exists() for name in WORK_FILES)


def read_status(run_dir: Path) -> dict:
    return _read_json(run_dir / "status.json", dict) or {}


def check_resumable(run_dir) -> tuple[Path, bool]:
    """(run folder, already complete). Reads every checkpoint before anything is written:
    a torn last line of evaluations.jsonl (what kill -9 of a writer leaves) is dropped and
    said; any other corruption is refused with one line."""
    run_dir = user_path(run_dir, "run folder", "dir", "pass the folder `edgeprune run` printed")
    if not (run_dir / "config.toml").is_file():
        raise UserError(f"'{show_path(run_dir)}' is not a run folder (no config.toml); pass the "
                        "folder `edgeprune run` printed")
    if read_status(run_dir).get("complete") is True:
        return run_dir, True
    state = _read_json(run_dir / "search_state.json", dict)
    if state is not None and not isinstance(state.get("generation_done"), int):
        raise _corrupt(run_dir / "search_state.json", "no 'generation_done' count")
    _read_json(run_dir / "sensitivity.json", (dict, list))
    repair_evaluations(run_dir / "evaluations.jsonl")
    return run_dir, False


def repair_evaluations(path: Path) -> int:
    """Number of evaluations kept; a torn last line is cut off (atomically), others refused."""
    from pipeline.atomic import write_text_atomic
    from pipeline.search.records import Evaluation

    if not path.is_file():
        return 0
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    kept, torn = [], None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            Evaluation.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if number == len(lines):  # the last line, not ended by a newline: a torn write
                torn = line
                break
            raise _corrupt(path, f"line {number}: {type(exc).__name__}") from None
        kept.append(line)
    if torn is not None:
        write_text_atomic(path, "".join(line + "\n" for line in kept))
        status(f"resume: dropped the torn last line of {path.name} ({len(torn)} bytes, what an "
               f"interrupted write leaves); {len(kept)} evaluations kept, the rest is redone")
    return len(kept)


def _read_json(path: Path, kinds):
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes())
    except ValueError as exc:
        raise _corrupt(path, f"not JSON: {exc}") from None
    if not isinstance(data, kinds):
        raise _corrupt(path, f"holds a {type(data).__name__}")
    return data


def _corrupt(path: Path, why: str) -> UserError:
    run_dir = show_path(path.parent)
    return UserError(f"'{show_path(path)}' is corrupt ({why}); the run cannot resume from it: "
                     f"restore the file, or start again with `edgeprune run --config "
                     f"{run_dir}/config.toml --out NEW_DIR`")
