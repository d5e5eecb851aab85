"""Persistent latency cache (SQLite), so a latency is measured once across runs and searches.

The key combines the model's architecture (ONNX graph without initializer values: a GA
evaluates many individuals with equal shapes and different weights) or file hash, the device
profile, the runtime and its version, threads, pinned cores and the input shape.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from pipeline.devices.stats import LatencyStats
from pipeline.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS measurements (
    key TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    runtime TEXT NOT NULL,
    runtime_version TEXT NOT NULL,
    stats_json TEXT NOT NULL,
    facts_json TEXT NOT NULL,
    created_s REAL NOT NULL
)"""
# Latency predictors (pipeline/predictor), one JSON document per (profile, runtime, threads,
# input shape, model structure): fitted on these measurements, so they live beside them.
PREDICTOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictors (
    key TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    json TEXT NOT NULL,
    created_s REAL NOT NULL
)"""


def model_key(path) -> str:
    """Architecture hash of an .onnx file (weights ignored); sha256 of any other file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model file {path} does not exist")
    if path.suffix.lower() != ".onnx":
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError) as exc:
        raise UserError(f"{path} is not a valid ONNX file ({exc}); re-export it") from None
    if not model.graph.node:
        raise UserError(f"{path} is not a valid ONNX file (empty graph); re-export it")
    graph = model.graph
    for tensor in graph.initializer:
        # Keep name, dtype and dims: they define the architecture; the values do not.
        for name in ("raw_data", "float_data", "int32_data", "int64_data", "double_data",
                     "uint64_data", "string_data", "external_data"):
            tensor.ClearField(name)
    digest = hashlib.sha256()
    digest.update(graph.SerializeToString(deterministic=True))
    for opset in model.opset_import:
        digest.update(f"{opset.domain}:{opset.version};".encode())
    return "onnx-arch:" + digest.hexdigest()


def cache_key(model: str, profile: str, runtime: str, runtime_version: str, threads: int,
              cores, input_shape) -> str:
    parts = {"model": model, "profile": profile, "runtime": runtime,
             "runtime_version": runtime_version, "threads": int(threads),
             "cores": [int(c) for c in cores], "input_shape": [int(d) for d in input_shape]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def default_cache_path() -> Path:
    from pipeline import paths
    return paths.cache_dir() / "latency.sqlite"


class MeasurementCache:
    def __init__(self, path=None):
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute(SCHEMA)
            self._db.execute(PREDICTOR_SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"latency cache {self.path} is unusable ({exc}); delete it or run "
                            "`edgeprune cache clear`") from None

    def get(self, key: str) -> tuple[LatencyStats, dict] | None:
        row = self._db.execute("SELECT stats_json, facts_json FROM measurements WHERE key = ?",
                               (key,)).fetchone()
        if row is None:
            return None
        return LatencyStats.from_dict(json.loads(row[0])), json.loads(row[1])

    def put(self, key: str, stats: LatencyStats, facts: dict) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO measurements VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, str(facts.get("profile", "")), str(facts.get("runtime", "")),
             str(facts.get("runtime_version", "")), json.dumps(stats.to_dict()),
             json.dumps(facts, default=str), time.time()))
        self._db.commit()

    def get_predictor(self, key: str) -> dict | None:
        row = self._db.execute("SELECT json FROM predictors WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_predictor(self, key: str, profile: str, data: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO predictors VALUES (?, ?, ?, ?)",
                         (key, profile, json.dumps(data), time.time()))
        self._db.commit()

    def stats(self) -> dict:
        rows = self._db.execute(
            "SELECT profile, runtime, runtime_version, COUNT(*) FROM measurements "
            "GROUP BY profile, runtime, runtime_version ORDER BY profile").fetchall()
        return {"path": str(self.path), "entries": sum(r[3] for r in rows),
                "size_bytes": self.path.stat().st_size if self.path.exists() else 0,
                "groups": [{"profile": r[0], "runtime": r[1], "runtime_version": r[2],
                            "entries": r[3]} for r in rows]}

    def clear(self, profile: str | None = None) -> int:
        if profile is None:
            cursor = self._db.execute("DELETE FROM measurements")
            self._db.execute("DELETE FROM predictors")
        else:
            cursor = self._db.execute("DELETE FROM measurements WHERE profile = ?", (profile,))
            self._db.execute("DELETE FROM predictors WHERE profile = ?", (profile,))
        self._db.commit()
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()


def split_cached(keys: list[str], cache) -> tuple[list, list[int], dict[str, int]]:
    """(results, todo, first_index): cache hits filled in by position; `todo` the first index
    of each key still to measure (a key asked twice in one batch is measured once), and where
    each measured key first appears."""
    results: list = [None] * len(keys)
    first_index: dict[str, int] = {}
    todo = []
    for i, key in enumerate(keys):
        hit = cache.get(key) if cache else None
        if hit is not None:
            results[i] = hit
        elif key not in first_index:
            first_index[key] = i
            todo.append(i)
    return results, todo, first_index
