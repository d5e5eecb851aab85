"""Shared test set-up: quiet progress bars, a private cache, one torch thread (2-core machine)."""
import os

import pytest

os.environ.setdefault("EDGEPRUNE_NO_PROGRESS", "1")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("EDGEPRUNE_CACHE", str(tmp_path_factory.getbasetemp() / "edgeprune-cache"))


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
