"""A corrupt latency cache: one line from `cache stats`, and `cache clear` still clears it."""
import subprocess
import sys


def _cache(*args, env):
    return subprocess.run([sys.executable, "-m", "pipeline", "cache", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_corrupt_cache_is_one_line_and_clear_removes_it(tmp_path):
    import os

    env = {**os.environ, "EDGEPRUNE_CACHE": str(tmp_path)}
    (tmp_path / "latency.sqlite").write_bytes(b"this is not a database" * 100)
    stats = _cache("stats", env=env)
    assert stats.returncode == 2 and len(stats.stderr.strip().splitlines()) == 1
    assert "cache clear" in stats.stderr
    cleared = _cache("clear", env=env)
    assert cleared.returncode == 0 and "unusable" in cleared.stdout
    assert _cache("stats", env=env).returncode == 0
