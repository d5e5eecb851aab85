"""Shared test set-up: quiet progress bars, a private cache, one torch thread (2-core machine),
and a real loopback sshd for the SSH tests."""
import os

import pytest

os.environ.setdefault("EDGEPRUNE_NO_PROGRESS", "1")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    # Session-wide, so module- and session-scoped fixtures (set up before any function-level
    # fixture) never train into or measure into the repository's own .edgeprune-cache.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDGEPRUNE_CACHE", str(tmp_path_factory.getbasetemp() / "edgeprune-cache"))
        yield


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sshd():
    """A real OpenSSH server on 127.0.0.1; skipped locally without sshd, an error on CI."""
    from pipeline.devices.testing_sshd import TestSshd, sshd_available

    if not sshd_available():
        message = "sshd not installed (apt-get install openssh-server)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must install it")
        pytest.skip(message)
    server = TestSshd.start()
    yield server
    server.stop()
