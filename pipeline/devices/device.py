"""A measuring device: batches of model files in, latency statistics out, never a fake number.

One runner session serves every batch of an `open_device` block. Around each measurement:
cache look-up, throttle check (a Pi that began throttling is cooled down and re-measured),
and a drift check (the session's first model is re-measured; if it moved beyond tolerance,
the measurements since the last good check are redone).
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.devices.cache import MeasurementCache, cache_key, model_key, split_cached
from pipeline.devices.links import LinkLost
from pipeline.devices.profile import DeviceProfile, load_profile
from pipeline.devices.stats import LatencyStats, moved, relative_change, summarize
from pipeline.errors import DeviceError, UserError
from pipeline.progress import progress, status

EXTENSION_RUNTIMES = {".onnx": "onnxruntime", ".tflite": "tflite"}
# Pi `get_throttled` bits: 0-3 are "now" (under-voltage, capped, throttled, soft limit),
# 16-19 the same since boot.
THROTTLE_NOW_MASK = 0xF
THROTTLE_SINCE_BOOT_MASK = 0xF0000
RECONNECT_BACKOFF_S = 0.5


def throttle_began(before: int | None, after: int | None) -> bool:
    """Did throttling start (or continue) while a measurement ran? None: cannot tell -> no."""
    if before is None or after is None:
        return False
    new_since_boot = after & ~before & THROTTLE_SINCE_BOOT_MASK
    return bool(after & THROTTLE_NOW_MASK or new_since_boot)


@dataclass(frozen=True)
class Measurement:
    stats: LatencyStats
    key: str
    cached: bool
    facts: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"stats": self.stats.to_dict(), "key": self.key, "cached": self.cached,
                "facts": self.facts}


def _make_link(profile, leftover_dirs=()):
    from pipeline.devices.links import LocalLink, SshLink

    if profile.backend == "ssh":
        return SshLink(profile, leftover_dirs)
    return LocalLink(profile)


class Device:
    def __init__(self, profile: DeviceProfile, cache: MeasurementCache | None = None,
                 link_factory=_make_link, sleep=time.sleep):
        self.profile = profile
        self.cache = cache
        self._link_factory = link_factory
        self._sleep = sleep
        self._link = None
        self._facts: dict | None = None
        self._reference: tuple[Path, LatencyStats] | None = None
        self._since_check: list[tuple[int, Path]] = []  # (index in batch, path) to redo on drift
        self.drift_events: list[dict] = []
        self.reconnects = 0

    # -- link management ---------------------------------------------------------------
    def _ensure_link(self):
        if self._link is None:
            self._link = self._link_factory(self.profile)
        return self._link

    def _reconnect(self, reason: str, attempt: int):
        leftovers = getattr(self._link, "temp_dirs", [])
        with contextlib.suppress(Exception):
            self._link.close()
        self._link = None
        self.reconnects += 1
        delay_s = RECONNECT_BACKOFF_S * 2 ** (attempt - 1)
        status(f"{self.profile.name}: connection lost ({reason}); reconnecting in {delay_s:.1f} s "
               f"(attempt {attempt}/{self.profile.max_retries})")
        self._sleep(delay_s)
        self._link = self._link_factory(self.profile, leftovers) if leftovers else \
            self._link_factory(self.profile)

    def _call(self, message: dict, path: Path | None = None, keep: bool = False,
              inputs: Path | None = None) -> dict:
        """One request, retried on a fresh connection when the link drops."""
        for attempt in range(self.profile.max_retries + 1):
            try:
                link = self._ensure_link()
                if path is not None:
                    message["path"], message["delete_after"] = link.stage(path, keep)
                if inputs is not None:
                    message["inputs_path"], _ = link.stage(inputs, keep)
                answer = link.request(message, self.profile.run_timeout_s)
                break
            except LinkLost as exc:
                if attempt == self.profile.max_retries:
                    raise DeviceError(f"{self.profile.name}: connection dropped "
                                      f"{attempt + 1} times, giving up: {exc}") from None
                self._reconnect(str(exc), attempt + 1)
        if not answer.get("ok"):
            error = answer.get("error", "runner failed")
            if path is not None:  # name the user's file, not its temporary copy on the board
                error = error.replace(message["path"], str(path))
            raise DeviceError(f"{self.profile.name}: {error}")
        return answer

    # -- facts -------------------------------------------------------------------------
    def check(self) -> dict:
        """Device facts; raises DeviceError naming what to install when the runtime is missing."""
        if self._facts is None:
            facts = self._call({"op": "facts",
                                "throttle_command": list(self.profile.throttle_command)})["facts"]
            problems = facts.get("problems", {})
            if "numpy" in problems:
                raise DeviceError(f"{self.profile.name}: {problems['numpy']}")
            if facts["runtimes"].get(self.profile.runtime) is None:
                raise DeviceError(f"{self.profile.name}: {problems[self.profile.runtime]}")
            self._facts = facts
        return self._facts

    def _runtime_version(self, path: Path) -> tuple[str, str]:
        runtime = EXTENSION_RUNTIMES[path.suffix.lower()]
        version = self.check()["runtimes"].get(runtime)
        if version is None:
            raise DeviceError(f"{self.profile.name}: {path.name} needs "
                              f"{self.check()['problems'][runtime]}")
        return runtime, version

    # -- answers -----------------------------------------------------------------------
    def predict(self, path, x) -> "np.ndarray":
        """The model's logits for samples `x` (N, *input shape, float32), computed ON the device.

        Latency says nothing about whether a file is right on the target: a quantised kernel
        of the target's CPU can be wrong where this host's is right. Never cached.
        """
        import tempfile

        import numpy as np

        path = Path(path)
        self._runtime_version(path)  # a missing runtime says what to install
        with tempfile.TemporaryDirectory() as tmp:
            inputs = Path(tmp) / "inputs.npy"
            np.save(inputs, np.ascontiguousarray(x, dtype=np.float32))
            answer = self._call({"op": "predict", "threads": self.profile.threads}, path,
                                inputs=inputs)
        return np.asarray(answer["logits"], dtype=np.float32)

    # -- measuring ---------------------------------------------------------------------
    def _measure_once(self, path: Path, input_shape,
                      keep: bool = False) -> tuple[LatencyStats, dict]:
        p = self.profile
        message = {"op": "measure", "input_shape": list(input_shape), "threads": p.threads,
                   "warmup_runs": p.warmup_runs, "warmup_min_s": p.warmup_min_s,
                   "runs": p.runs, "min_time_s": p.min_time_s, "seed": p.seed,
                   "throttle_command": list(p.throttle_command), "keep_loaded": keep}
        for attempt in range(p.max_retries + 1):
            answer = self._call(dict(message), path, keep)
            if not throttle_began(answer["throttled_before"], answer["throttled_after"]):
                break
            if attempt == p.max_retries:
                raise DeviceError(f"{p.name}: the board kept throttling (get_throttled="
                                  f"{answer['throttled_after']:#x}) while measuring {path.name}; "
                                  "improve cooling or power supply, or raise cooldown_s")
            status(f"{p.name}: throttling began while measuring {path.name} "
                   f"({answer['throttled_before']:#x} -> {answer['throttled_after']:#x}); "
                   f"cooling down {p.cooldown_s:.0f} s and measuring again")
            self._sleep(p.cooldown_s)
        facts = {k: answer[k] for k in ("runtime", "runtime_version", "threads", "cores",
                                        "throttled_before", "throttled_after",
                                        "temperature_c_before", "temperature_c_after",
                                        "warmup_runs_done", "load_s", "warmup_s", "timed_s")}
        facts.update(profile=p.name, cpu=self.check().get("cpu"), measured_s=time.time())
        return summarize(answer["samples_ms"]), facts

    def _check_drift_and_redo(self, results: list, input_shape) -> None:
        """Re-measure the reference; on drift flag the device and redo the affected models.

        After a redo the reference is measured again: back within tolerance of the baseline
        is fine; within tolerance of the drifted value means the device settled at a new level
        (the redone models were measured at it) and that value becomes the baseline; still
        moving after max_retries redos is a DeviceError.
        """
        p = self.profile
        ref_path, baseline = self._reference
        previous = None
        for attempt in range(p.max_retries + 1):
            stats, _ = self._measure_once(ref_path, self._reference_shape, keep=True)
            if not moved(baseline.p50_ms, stats.p50_ms, p.drift_tolerance, p.drift_min_change_ms):
                break
            if previous and not moved(previous.p50_ms, stats.p50_ms, p.drift_tolerance,
                                      p.drift_min_change_ms):
                status(f"{p.name}: latency settled at a new level (reference "
                       f"{baseline.p50_ms:.3f} -> {stats.p50_ms:.3f} ms); new baseline")
                self._reference = (ref_path, stats)
                break
            change = relative_change(baseline.p50_ms, stats.p50_ms)
            self.drift_events.append({"reference": ref_path.name,
                                      "reference_p50_ms": baseline.p50_ms,
                                      "now_p50_ms": stats.p50_ms, "change": change})
            if attempt == p.max_retries:
                raise DeviceError(
                    f"{p.name}: latency kept drifting (reference {baseline.p50_ms:.3f} -> "
                    f"{stats.p50_ms:.3f} ms after {attempt} redo(s)); stop other load on the "
                    "device, check cooling, or raise [drift] tolerance")
            status(f"{p.name}: DRIFT flagged: reference {ref_path.name} moved {change:.1%} "
                   f"({baseline.p50_ms:.3f} -> {stats.p50_ms:.3f} ms, tolerance "
                   f"{p.drift_tolerance:.0%}); redoing {len(self._since_check)} measurement(s)")
            self._sleep(p.cooldown_s)
            for index, path in self._since_check:
                results[index] = self._measure_once(path, input_shape)
            previous = stats
        self._since_check.clear()

    def measure(self, paths, input_shape, fresh: bool = False) -> list[Measurement]:
        """Measure every model in one runner session; cached keys are not measured again.
        fresh: measure now whatever the cache holds (the new measurement replaces the cached
        one): the device's level at this moment, or samples that must share a session."""
        paths = [Path(p) for p in paths]
        input_shape = tuple(int(d) for d in input_shape)
        for path in paths:
            if path.suffix.lower() not in EXTENSION_RUNTIMES:
                raise UserError(f"{path}: unknown model format; use .onnx or .tflite")
            if not path.is_file():
                raise UserError(f"model file {path} does not exist")
        keys = []
        for path in paths:
            runtime, version = self._runtime_version(path)
            keys.append(cache_key(model_key(path), self.profile.name, runtime, version,
                                  self.profile.threads, self.profile.cores, input_shape))
        results, todo, first_index = split_cached(keys, None if fresh else self.cache)
        if todo:
            self._measure_todo(paths, input_shape, todo, results)
            if self.cache:
                for i in todo:
                    self.cache.put(keys[i], *results[i])
        return assemble(keys, results, first_index)

    def _measure_todo(self, paths, input_shape, todo, results):
        bar = progress(total=len(todo), desc=f"latency on {self.profile.name}", unit="model") \
            if len(todo) > 4 else None
        try:
            for count, i in enumerate(todo, 1):
                is_reference = self._reference is None and self.profile.drift_every > 0
                results[i] = self._measure_once(paths[i], input_shape, keep=is_reference)
                if is_reference:
                    self._reference = (paths[i], results[i][0])
                    self._reference_shape = input_shape
                elif self._reference is not None:
                    self._since_check.append((i, paths[i]))
                due = len(self._since_check) >= self.profile.drift_every or count == len(todo)
                if self._reference and self._since_check and due:
                    self._check_drift_and_redo(results, input_shape)
                if bar:
                    bar.update(1)
        finally:
            if bar:
                bar.close()

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None


@contextlib.contextmanager
def open_device(profile, cache: MeasurementCache | None = None):
    """`with open_device("host-ort") as device: device.measure(paths, shape)`.

    A profile listing several boards (`[ssh] hosts`) opens a pool of them (pipeline/pool/),
    which measures through the same interface.
    """
    profile = load_profile(profile)
    if profile.hosts:
        from pipeline.pool import BoardPool

        device = BoardPool(profile, cache)
    else:
        device = Device(profile, cache)
    try:
        yield device
    finally:
        device.close()


def assemble(keys: list[str], results: list, first_index: dict[str, int]) -> list[Measurement]:
    """One Measurement per key, in order: a repeat of a key measured in the same batch shares
    its result, and everything not measured at its own position counts as cached."""
    out = []
    for i, key in enumerate(keys):
        here = first_index.get(key)
        stats, facts = results[i] if results[i] is not None else results[here]
        out.append(Measurement(stats, key, cached=here != i, facts=facts))
    return out
