"""Atomic file writes: write beside the target under a temporary name, rename only on success.

A command that fails (a converter error, Ctrl-C, kill -9) therefore leaves the previous file
byte-identical, never a truncated or half-replaced one: `os.replace` is atomic on one filesystem.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


def temp_name(path: Path) -> Path:
    """A hidden name beside `path` with the same suffix (converters choose formats by suffix)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_target(path):
    """`with atomic_target(p) as tmp:` write tmp; it replaces p only if the block succeeds."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path, text: str) -> Path:
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def copy_atomic(src, dst) -> Path:
    with atomic_target(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)
