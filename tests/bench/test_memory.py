"""The benches' memory sampler: a child that holds 200 MiB is seen in the tree's PSS
and as its largest process; a process that has exited counts nothing."""
import os
import signal
import subprocess
import sys
import time

from bench.memory import tree_memory_mb

HOLD = "import sys, time; x = bytearray(200 * 2**20); print('ready', flush=True); time.sleep(30)"


def test_a_child_holding_200_mib_is_counted_in_the_tree():
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys; subprocess.run([sys.executable, '-c', "
                               f"{HOLD!r}])"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert parent.stdout.readline().strip() == "ready"   # printed by the grandchild
        seen = tree_memory_mb(parent.pid)
        assert seen["pss_mb"] >= 200 and seen["largest_rss_mb"] >= 200, seen
        assert seen["rss_mb"] >= seen["largest_rss_mb"]
        assert "bytearray" in seen["largest_cmd"]
    finally:
        os.killpg(parent.pid, signal.SIGKILL)   # the grandchild too
        parent.wait()
    time.sleep(0.5)
    assert tree_memory_mb(parent.pid)["pss_mb"] == 0
