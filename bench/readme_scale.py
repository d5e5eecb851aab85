"""bench/README.md's section on scaling beyond one machine (issue 14): lazily read image folders,
a pool of boards, and a 224x224 user model with the local and the Ray executor."""
from __future__ import annotations

from bench.readme import _commit


def lazy_rows(r: dict) -> list[str]:
    per_epoch = f"{r['train_epoch_s']:.0f} s" + (" (extrapolated from "
                                                  f"{r['train_steps']} steps)"
                                                  if r.get("train_epoch_extrapolated") else "")
    peak = r["peak_tree_pss_mb"]
    memory = (f"peak PSS of the process tree {peak:,.0f} MB (the run's own peak RSS "
              f"{r['peak_rss_mb']:,.0f} MB, a loader worker {r['worker_peak_rss_mb']:,.0f} MB)")
    verdict = "under" if peak < 2048 else "over"
    return [f"| image folder, {r['images']:,} images at {r['image_size']}x{r['image_size']}, "
            f"read lazily, {r['config']['workers']} loader workers | {memory}; read whole as "
            f"float32 the pixels alone would be {r['in_memory_pixels_mb']:,.0f} MB | one "
            f"training epoch {per_epoch}; one pass of the loader alone {r['loader_epoch_s']:.0f} s "
            f"| {verdict} the 2 GB bound ({_commit(r)}) |"]


def pool_rows(r: dict) -> list[str]:
    return [f"| one generation of {r['models']} models measured on emulated aarch64 boards, "
            f"median of {r['rounds']} rounds | - | one board {r['one_board_median_s']:.1f} s, "
            f"two boards {r['two_boards_median_s']:.1f} s: ratio **{r['ratio']:.2f}** | both "
            f"boards are qemu on this host's 2 cores, so this shows how well the pool overlaps "
            f"its boards, not what two real boards gain ({_commit(r)}) |"]


def large_rows(r: dict) -> list[str]:
    rows = []
    for name, run in r["runs"].items():
        memory = (f"peak PSS of the process tree {run['peak_tree_pss_mb']:,.0f} MB (RSS summed "
                  f"per process {run['peak_tree_rss_mb']:,.0f} MB; largest process "
                  f"{run['peak_largest_rss_mb']:,.0f} MB)")
        batch = run.get("batch_size") or r.get("batch_size")
        executor = "local" if name.startswith("local") else name
        what = (f"same front as local for the same seed: **{r['same_front']}**"
                if name in ("local", "ray") else "memory at a smaller training batch")
        what += f"; {'under' if run['peak_tree_pss_mb'] < 2048 else 'over'} the 2 GB bound"
        rows.append(f"| `{r['model']}` at {r['image_size']}x{r['image_size']}, {r['images']} "
                    f"images, search.executor={executor}"
                    f"{f', data.batch_size={batch}' if batch else ''} | {memory} | whole run "
                    f"{run['wall_s']:.0f} s | {what} ({_commit(r)}) |")
    return rows


def scale_section(lazy: dict | None, pool: dict | None, large: dict | None) -> list[str]:
    if not (lazy or pool or large):
        return []
    lines = ["## Scaling beyond one machine", "",
             "`python -m bench.lazy_memory`, `bench.board_pool` and `bench.large_input`, each run "
             "alone (`--smoke` for the tiny check).", "",
             "| what | memory | time | what it shows |", "|---|---|---|---|"]
    if lazy:
        lines += lazy_rows(lazy)
    if pool:
        lines += pool_rows(pool)
    if large:
        lines += large_rows(large)
    return lines + [""]
