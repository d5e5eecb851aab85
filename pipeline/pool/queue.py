"""Work shared by several workers pulling from one queue; a worker that drops out has its
unfinished chunk put back for the others.

Pure threading, no device knowledge: the pool runs one thread per board, `run(worker, chunk)`
measures a chunk on that board. Results are keyed by item index, so the order the workers
finish in never changes what the caller gets back.
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import Callable, Hashable, Sequence


class NoWorkersLeft(Exception):
    """Every worker dropped out with work still queued."""


@dataclass
class Shared:
    results: dict[int, object] = field(default_factory=dict)   # item index -> result
    done_by: dict[int, Hashable] = field(default_factory=dict)  # item index -> worker
    dropped: dict[Hashable, str] = field(default_factory=dict)  # worker -> why
    requeued: list[int] = field(default_factory=list)           # item indices put back


def share_work(n_items: int, workers: Sequence[Hashable],
               run: Callable[[Hashable, list[int]], list], *, chunk_size: int = 1,
               is_loss: Callable[[BaseException], bool] = lambda exc: True,
               on_drop: Callable[[Hashable, BaseException, list[int]], None] | None = None,
               max_losses_per_item: int = 2) -> Shared:
    """Run items 0..n_items-1 through `run(worker, chunk_of_indices) -> results` on all workers.

    An exception for which is_loss(exc) is true drops that worker (on_drop is told) and puts
    its chunk back at the head of the queue. An item that made `max_losses_per_item` workers
    drop is taken to be the fault (a model no board can run): its error is raised. Any other
    exception stops the work and is raised once every thread has finished its current chunk.
    NoWorkersLeft: all workers dropped with items still queued (`.shared` holds what was done).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    shared = Shared()
    pending = collections.deque(range(n_items))
    losses: collections.Counter = collections.Counter()
    state = {"busy": 0, "fatal": None}
    cond = threading.Condition()

    def take():
        with cond:
            while True:
                if state["fatal"] is not None:
                    return None
                if pending:
                    chunk = [pending.popleft() for _ in range(min(chunk_size, len(pending)))]
                    state["busy"] += 1
                    return chunk
                if state["busy"] == 0:
                    return None   # nothing queued and nothing that could come back
                cond.wait()       # a running chunk may be put back if its worker drops

    def worker_loop(worker):
        while (chunk := take()) is not None:
            try:
                out = run(worker, chunk)
                if len(out) != len(chunk):
                    raise RuntimeError(f"worker {worker!r} returned {len(out)} results for "
                                       f"{len(chunk)} items")
            except BaseException as exc:  # noqa: BLE001 - decided below, re-raised by the caller
                lost = is_loss(exc)
                with cond:
                    state["busy"] -= 1
                    if lost:
                        losses.update(chunk)
                        if any(losses[i] >= max_losses_per_item for i in chunk):
                            lost = False  # the item, not the board, is at fault
                    if not lost:
                        state["fatal"] = state["fatal"] or exc
                    else:
                        shared.dropped[worker] = str(exc)
                        shared.requeued.extend(chunk)
                        pending.extendleft(reversed(chunk))
                    cond.notify_all()
                if lost and on_drop is not None:
                    on_drop(worker, exc, chunk)
                return
            with cond:
                state["busy"] -= 1
                for i, r in zip(chunk, out):
                    shared.results[i] = r
                    shared.done_by[i] = worker
                cond.notify_all()

    threads = [threading.Thread(target=worker_loop, args=(w,), name=f"pool-{w}", daemon=True)
               for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if state["fatal"] is not None:
        raise state["fatal"]
    if pending:
        error = NoWorkersLeft(f"every worker dropped out with {len(pending)} item(s) left")
        error.shared = shared
        raise error
    return shared
