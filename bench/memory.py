"""Memory of a process tree, sampled from /proc (Linux): what a run and all its helpers hold.

Summed PSS is the honest total (a page shared by k processes counts 1/k in each); summed RSS
counts shared pages once per process (forked loader workers share the parent's libraries), an
over-count kept beside it; the largest single process says where the memory sits.
"""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path


def _children() -> dict[int, list[int]]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    return parents


def _kib(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def _program(pid: int) -> str:
    """What the process is, without its paths: `python -m pipeline`, `ray::_run_task`."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    words = [os.path.basename(argv[0])] + [a for a in argv[1:3] if a and "/" not in a]
    return " ".join(words).strip()[:60]


def tree_memory_mb(root: int) -> dict:
    """`root` and every descendant now, in MiB: summed PSS, summed RSS, the largest RSS and the
    command of that process (all 0 once it has exited)."""
    children, todo = _children(), [root]
    pss = rss = largest = 0
    largest_cmd = ""
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            one_rss = _kib(Path(f"/proc/{pid}/status").read_text(), "VmRSS:")
            pss += _kib(Path(f"/proc/{pid}/smaps_rollup").read_text(), "Pss:")
            if one_rss > largest:
                largest, largest_cmd = one_rss, _program(pid)
            rss += one_rss
        except OSError:
            pass
    return {"pss_mb": pss / 1024, "rss_mb": rss / 1024, "largest_rss_mb": largest / 1024,
            "largest_cmd": largest_cmd}


def watch(proc: subprocess.Popen, every_s: float = 0.2) -> dict:
    """Wait for `proc`, sampling tree_memory_mb; the peaks (MiB) and the largest process."""
    peak = {"peak_tree_pss_mb": 0.0, "peak_tree_rss_mb": 0.0, "peak_largest_rss_mb": 0.0,
            "largest_process": ""}
    done = threading.Event()

    def sample():
        while not done.wait(every_s):
            now = tree_memory_mb(proc.pid)
            peak["peak_tree_pss_mb"] = max(peak["peak_tree_pss_mb"], now["pss_mb"])
            peak["peak_tree_rss_mb"] = max(peak["peak_tree_rss_mb"], now["rss_mb"])
            if now["largest_rss_mb"] > peak["peak_largest_rss_mb"]:
                peak["peak_largest_rss_mb"] = now["largest_rss_mb"]
                peak["largest_process"] = now["largest_cmd"]

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    done.set()
    sampler.join()
    return peak
