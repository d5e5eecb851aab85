"""Latency on the target device: profiles, the standalone runner, local and SSH devices,
statistics and the SQLite cache. Names load lazily so `import pipeline.devices` stays instant
(paramiko, onnx and the runtimes are imported only where used).
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "DeviceProfile": "profile", "load_profile": "profile", "list_profiles": "profile",
    "LatencyStats": "stats", "summarize": "stats", "coefficient_of_variation": "stats",
    "latency_dict": "stats",
    "MeasurementCache": "cache", "model_key": "cache",
    "Device": "device", "Measurement": "device", "open_device": "device",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in ("ssh", "runner", "links", "testing_sshd", "testing_models"):
        return importlib.import_module(f"pipeline.devices.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"pipeline.devices.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'pipeline.devices' has no attribute {name!r}")
