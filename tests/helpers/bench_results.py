"""One way for the bench smoke tests (tests/bench/) to run a benchmark with its results in a temporary folder."""
import contextlib

import pytest


@contextlib.contextmanager
def results_in(root, own_cache: bool = False):
    """bench.common writes under `root`/results (smoke files in its tmp/); with `own_cache`,
    baselines and latencies go to `root`/cache too. Yields the smoke results folder."""
    import bench.common as common

    patch = pytest.MonkeyPatch()
    patch.setattr(common, "RESULTS_DIR", root / "results")
    patch.setattr(common, "SMOKE_DIR", root / "results" / "tmp")
    if own_cache:
        patch.setenv("EDGEPRUNE_CACHE", str(root / "cache"))
    try:
        yield root / "results" / "tmp"
    finally:
        patch.undo()
