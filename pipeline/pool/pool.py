"""A pool of boards of one kind behind the Device interface: `measure(paths, input_shape)`,
`check()`, `close()`, `profile`.

- One runner session per board (each board is a `pipeline.devices.Device` of its own, with
  its own reconnects, throttle and drift checks); one thread per board pulls models from a
  shared queue, so a generation's measurements are spread over every board.
- Level check: the first model the pool measures is measured on every board. The pool's
  level is the lower median of those medians; a board more than `[drift] tolerance` away
  from it is set aside with a message, so latencies from different boards stay comparable.
- A board that drops out (a DeviceError after its own reconnect attempts) is set aside and
  the models it had not finished go back to the queue for the others; the run goes on
  while one board is left.
The cache is consulted and filled here, in the caller's thread (SQLite connections do not
cross threads); the boards measure with no cache of their own.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.devices.cache import cache_key, model_key, split_cached
from pipeline.devices.device import EXTENSION_RUNTIMES, Device, Measurement, assemble
from pipeline.devices.profile import DeviceProfile, parse_host
from pipeline.devices.stats import moved, relative_change
from pipeline.errors import DeviceError, UserError
from pipeline.pool.queue import NoWorkersLeft, share_work
from pipeline.progress import progress, status


def member_profiles(profile: DeviceProfile) -> list[DeviceProfile]:
    """One single-board profile per `[ssh] hosts` entry (same name: same cache keys)."""
    members = []
    for entry in profile.hosts:
        host, port = parse_host(entry, profile.port, profile.name)
        members.append(dataclasses.replace(profile, host=host, port=port, hosts=()))
    return members


@dataclass
class Board:
    label: str          # host:port, how messages and measurement facts name the board
    device: object      # a Device (or a fake one in unit tests)


class BoardPool:
    def __init__(self, profile: DeviceProfile, cache=None, device_factory=Device):
        self.profile = profile
        self.cache = cache
        self.boards = [Board(f"{p.host}:{p.port}", device_factory(p))
                       for p in member_profiles(profile)]
        if not self.boards:
            raise UserError(f"{profile.name}: a pool needs at least one entry in [ssh] hosts")
        self.set_aside: dict[str, str] = {}      # label -> why
        self.levels_ms: dict[str, float] = {}    # label -> reference p50 at the level check
        self.level_ms: float | None = None
        self.requeued = 0                        # models re-measured after a board dropped
        self._facts: dict | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> list[Board]:
        return [b for b in self.boards if b.label not in self.set_aside]

    def _set_aside(self, board: Board, reason: str) -> None:
        with self._lock:
            if board.label in self.set_aside:
                return
            self.set_aside[board.label] = reason
        status(f"{self.profile.name}: board {board.label} set aside: {reason}")
        with contextlib.suppress(Exception):
            board.device.close()

    def _on_every_board(self, fn) -> dict[str, object]:
        """fn(board) on every active board at once; a board raising DeviceError is set aside."""
        boards = self.active
        with ThreadPoolExecutor(max_workers=len(boards)) as pool:
            futures = {b.label: pool.submit(fn, b) for b in boards}
        results = {}
        for board in boards:
            try:
                results[board.label] = futures[board.label].result()
            except DeviceError as exc:
                self._set_aside(board, f"unusable ({exc})")
        if not self.active:
            raise DeviceError(f"{self.profile.name}: no board of the pool is usable ("
                              + "; ".join(f"{k}: {v}" for k, v in self.set_aside.items()) + ")")
        return results

    # -- Device interface ---------------------------------------------------------------
    def check(self) -> dict:
        """The first usable board's facts, plus which boards the pool uses and set aside."""
        if self._facts is None:
            facts = self._on_every_board(lambda b: b.device.check())
            first = self.active[0].label
            self._facts = dict(facts[first])
        return {**self._facts, "pool": {"boards": [b.label for b in self.active],
                                        "set_aside": dict(self.set_aside)}}

    def measure(self, paths, input_shape, fresh: bool = False) -> list[Measurement]:
        """Measure every model once, spread over the boards; cached keys are not measured.
        fresh: as Device.measure (measured now, replacing what the cache holds)."""
        paths = [Path(p) for p in paths]
        input_shape = tuple(int(d) for d in input_shape)
        for path in paths:
            if path.suffix.lower() not in EXTENSION_RUNTIMES:
                raise UserError(f"{path}: unknown model format; use .onnx or .tflite")
            if not path.is_file():
                raise UserError(f"model file {path} does not exist")
        facts = self.check()
        keys = []
        for path in paths:
            runtime = EXTENSION_RUNTIMES[path.suffix.lower()]
            version = facts["runtimes"].get(runtime)
            if version is None:
                raise DeviceError(f"{self.profile.name}: {path.name} needs "
                                  f"{facts.get('problems', {}).get(runtime, runtime)}")
            keys.append(cache_key(model_key(path), self.profile.name, runtime, version,
                                  self.profile.threads, self.profile.cores, input_shape))
        results, todo, first_index = split_cached(keys, None if fresh else self.cache)
        if todo:
            if self.level_ms is None:
                results[todo[0]] = self._check_level(paths[todo[0]], input_shape)
                measured, todo = todo, todo[1:]
            else:
                measured = list(todo)
            self._spread(paths, input_shape, todo, results)
            if self.cache:
                for i in measured:
                    self.cache.put(keys[i], *results[i])
        return assemble(keys, results, first_index)

    def close(self) -> None:
        for board in self.boards:
            with contextlib.suppress(Exception):
                board.device.close()

    # -- the two steps ------------------------------------------------------------------
    def _check_level(self, path: Path, input_shape) -> tuple:
        """Measure `path` on every board; set aside boards off the pool's level."""
        got = self._on_every_board(lambda b: b.device.measure([path], input_shape)[0])
        self.levels_ms = {label: m.stats.p50_ms for label, m in got.items()}
        ordered = sorted(got, key=lambda label: self.levels_ms[label])
        level_board = ordered[(len(ordered) - 1) // 2]   # lower median: the faster of two
        self.level_ms = self.levels_ms[level_board]
        tolerance = self.profile.drift_tolerance
        for board in self.active:
            p50 = self.levels_ms.get(board.label)
            if p50 is None:
                continue
            change = relative_change(self.level_ms, p50)
            if moved(self.level_ms, p50, tolerance, self.profile.drift_min_change_ms):
                self._set_aside(board, f"reference {path.name} runs at {p50:.3f} ms there "
                                f"against the pool's {self.level_ms:.3f} ms ({change:.0%} off, "
                                f"tolerance {tolerance:.0%}); its latencies would not be "
                                "comparable")
        if len(self.active) > 1 or len(self.boards) > 1:
            status(f"{self.profile.name}: {len(self.active)} of {len(self.boards)} boards at "
                   f"the pool's level (reference {self.level_ms:.3f} ms)")
        m = got[level_board]
        return m.stats, {**m.facts, "board": level_board}

    def _spread(self, paths, input_shape, todo: list[int], results: list) -> None:
        if not todo:
            return
        boards = {b.label: b for b in self.active}
        # Each Device.measure call ends with a drift re-check of that board's reference, so
        # with drift checks on, boards take a few models at a time rather than one.
        every = self.profile.drift_every
        chunk = 1 if every == 0 else max(1, min(every, math.ceil(len(todo) / (2 * len(boards)))))
        bar = progress(total=len(todo), desc=f"latency on {self.profile.name} "
                       f"({len(boards)} boards)", unit="model") if len(todo) > 4 else None

        def run(label, chunk_indices):
            ms = boards[label].device.measure([paths[todo[j]] for j in chunk_indices],
                                              input_shape)
            if bar is not None:
                bar.update(len(ms))
            return [(m.stats, {**m.facts, "board": label}) for m in ms]

        def on_drop(label, exc, chunk_indices):
            self._set_aside(boards[label], f"dropped out ({exc}); {len(chunk_indices)} "
                            "model(s) go back to the queue for the other boards")

        try:
            shared = share_work(len(todo), list(boards), run, chunk_size=chunk,
                                is_loss=lambda exc: isinstance(exc, DeviceError),
                                on_drop=on_drop)
        except NoWorkersLeft:
            raise DeviceError(f"{self.profile.name}: every board of the pool dropped out ("
                              + "; ".join(f"{k}: {v}" for k, v in self.set_aside.items())
                              + ")") from None
        finally:
            if bar is not None:
                bar.close()
        self.requeued += len(shared.requeued)
        for j, result in shared.results.items():
            results[todo[j]] = result
