"""Per-device latency predictor: learned from the device's own measurements of the model's
architectures, stored in the measurement cache beside them, used to screen what the search
measures. Names load lazily so `import pipeline.predictor` stays instant (sklearn, torch)."""
from __future__ import annotations

import importlib

_EXPORTS = {
    "LatencyPredictor": "model", "error_summary": "model",
    "LatencySample": "samples", "LayerTable": "layers",
    "PredictorKey": "store", "load_predictor": "store", "save_predictor": "store",
    "random_genomes": "profiling", "measure_genomes": "profiling",
    "fit_on_device": "session", "eval_on_device": "session",
    "open_predictor": "session",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"pipeline.predictor.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'pipeline.predictor' has no attribute {name!r}")
