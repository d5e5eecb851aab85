"""Progress bars on stderr (tqdm). EDGEPRUNE_NO_PROGRESS=1 turns them off (tests, logs)."""
from __future__ import annotations

import os
import sys


def progress(iterable=None, total=None, desc: str = "", unit: str = "it", leave: bool = False):
    from tqdm.auto import tqdm

    disable = os.environ.get("EDGEPRUNE_NO_PROGRESS") == "1"
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, disable=disable,
                dynamic_ncols=True, file=sys.stderr)


def status(message: str) -> None:
    """A one-line status that stays in the log (stage starts, generation summaries)."""
    print(message, file=sys.stderr, flush=True)
