"""Predictors kept in the measurement cache, next to the measurements they were fitted on.

One predictor per (device profile, runtime and its version, threads, pinned cores, input
shape, model structure): a second run on the same board with the same model starts with it.
The structure is the layer table's digest, so an edited model never reuses a stale predictor.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from pipeline.predictor.model import LatencyPredictor


@dataclass(frozen=True)
class PredictorKey:
    profile: str
    runtime: str
    runtime_version: str
    threads: int
    cores: tuple[int, ...]
    input_shape: tuple[int, ...]
    structure: str

    @classmethod
    def for_device(cls, device, input_shape, table) -> "PredictorKey":
        """The key for an open pipeline.devices Device (asks it for its runtime version)."""
        profile = device.profile
        version = device.check()["runtimes"].get(profile.runtime) or ""
        return cls(profile.name, profile.runtime, str(version), int(profile.threads),
                   tuple(int(c) for c in profile.cores), tuple(int(d) for d in input_shape),
                   table.digest())

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return "predictor:" + hashlib.sha256(text.encode()).hexdigest()


def load_predictor(cache, key: PredictorKey) -> LatencyPredictor | None:
    """The stored predictor for `key`, refitted from its samples; None if there is none (or
    no cache: a device opened without one keeps nothing between runs)."""
    if cache is None:
        return None
    data = cache.get_predictor(key.digest())
    return None if data is None else LatencyPredictor.from_dict(data["predictor"])


def save_predictor(cache, key: PredictorKey, predictor: LatencyPredictor) -> None:
    cache.put_predictor(key.digest(), key.profile,
                        {"key": asdict(key), "predictor": predictor.to_dict()})
