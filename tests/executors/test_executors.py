"""The executor interface without Ray: order, the shared argument, and clear errors."""
import sys

import pytest

from pipeline.config import load_config
from pipeline.errors import UserError
from pipeline.executors import make_executor
from pipeline.executors.local import LocalExecutor


def scaled(shared, item):
    return shared["factor"] * item


def test_local_map_keeps_submission_order_and_passes_shared():
    ex = LocalExecutor()
    assert ex.map(scaled, [3, 1, 2], shared={"factor": 10}, desc="x") == [30, 10, 20]
    assert ex.map(scaled, [], shared=None) == []


def test_local_is_the_default():
    cfg = load_config()
    assert cfg.search.executor == "local"
    assert isinstance(make_executor(cfg.search, cfg.train), LocalExecutor)


def test_an_unknown_executor_is_rejected_by_the_config():
    with pytest.raises(UserError, match="search.executor"):
        load_config(overrides=["search.executor=dask"])


def test_ray_without_ray_installed_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    cfg = load_config(overrides=["search.executor=ray"])
    with pytest.raises(UserError, match=r"edgeprune\[ray\]"):
        make_executor(cfg.search, cfg.train)


def test_importing_the_package_does_not_import_ray():
    import subprocess

    code = ("import sys, pipeline.executors, pipeline.executors.local, pipeline.search.fitness; "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
