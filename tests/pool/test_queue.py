"""share_work: every item done once, spread over workers, and put back when a worker drops."""
import threading
import time

import pytest

from pipeline.pool.queue import NoWorkersLeft, share_work


class Dropped(Exception):
    pass


def slow_square(delay_s):
    def run(worker, chunk):
        time.sleep(delay_s)
        return [i * i for i in chunk]
    return run


def test_every_item_once_in_index_order_over_all_workers():
    shared = share_work(20, ["a", "b", "c"], slow_square(0.005), chunk_size=2)
    assert shared.results == {i: i * i for i in range(20)}
    assert set(shared.done_by.values()) == {"a", "b", "c"}  # everyone pulled work
    assert not shared.dropped and not shared.requeued


def test_a_worker_dropping_mid_run_has_its_chunk_redone_by_the_others():
    calls = {"a": 0}
    told = []

    def run(worker, chunk):
        time.sleep(0.01)
        if worker == "a":
            calls["a"] += 1
            if calls["a"] == 2:
                raise Dropped("board unplugged")
        return [(worker, i) for i in chunk]

    shared = share_work(10, ["a", "b"], run, on_drop=lambda w, exc, chunk: told.append((w, chunk)))
    assert sorted(shared.results) == list(range(10))            # nothing lost
    assert shared.dropped == {"a": "board unplugged"}
    assert len(told) == 1 and told[0][0] == "a"
    lost = told[0][1]
    assert shared.requeued == lost and all(shared.done_by[i] == "b" for i in lost)
    assert sum(w == "a" for w in shared.done_by.values()) == 1   # only its first chunk


def test_a_worker_waiting_on_an_empty_queue_picks_up_work_put_back():
    """b finds the queue empty while a still holds the last item; a drops; b must do it."""
    started = threading.Event()

    def run(worker, chunk):
        if worker == "a":
            started.set()
            time.sleep(0.1)
            raise Dropped("gone")
        started.wait()
        return [worker for _ in chunk]

    shared = share_work(1, ["a", "b"], run)
    assert shared.results == {0: "b"}


def test_all_workers_dropping_raises_with_the_work_done_so_far():
    def run(worker, chunk):
        if chunk[0] >= 3:
            raise Dropped(worker)
        return chunk

    with pytest.raises(NoWorkersLeft) as err:
        share_work(6, ["a", "b", "c"], run, max_losses_per_item=10)
    assert sorted(err.value.shared.results) == [0, 1, 2]
    assert set(err.value.shared.dropped) == {"a", "b", "c"}


def test_an_item_that_fails_everywhere_is_its_own_fault():
    def run(worker, chunk):
        if 4 in chunk:
            raise Dropped(f"cannot load item 4 on {worker}")
        return chunk

    with pytest.raises(Dropped, match="item 4"):
        share_work(8, ["a", "b", "c"], run, max_losses_per_item=2)


def test_an_error_that_is_not_a_loss_stops_the_work():
    def run(worker, chunk):
        if 2 in chunk:
            raise ValueError("a bug, not a board")
        return chunk

    with pytest.raises(ValueError, match="a bug"):
        share_work(6, ["a", "b"], run, is_loss=lambda exc: isinstance(exc, Dropped))
