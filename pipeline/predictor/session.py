"""Fit and evaluate a model's predictor on an open device: what `edgeprune predictor fit|eval`
and the benchmark do. The predictor is loaded from, and saved to, the measurement cache."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from pipeline.errors import UserError
from pipeline.predictor.evaluation import evaluate_on
from pipeline.predictor.layers import LayerTable
from pipeline.predictor.model import MIN_SAMPLES, LatencyPredictor
from pipeline.predictor.profiling import PASSES, measure_genomes, random_genomes, repeatability
from pipeline.predictor.store import PredictorKey, load_predictor, save_predictor

EVAL_SEED_OFFSET = 1_000_003   # eval draws from another stream than fit, and excludes fit's genomes


@dataclass(frozen=True)
class FitReport:
    samples: int          # architectures the predictor is fitted on
    added: int            # of which drawn by this call
    measured: int         # of those, really measured now (the rest came from the device cache)
    seconds: float
    chosen: dict          # feature set, regressor, cross-validation errors
    reused: bool          # started from the predictor stored for this device and model
    relative: bool = False  # learned latency / the unpruned model's (every sample has one)
    passes: int = 1         # passes over the new architectures (the fastest counts)


def check_sampling(n: int, min_keep: float, what: str = "--n") -> None:
    if n < 1:
        raise UserError(f"{what} must be a positive number of architectures, got {n}")
    if not 0 <= min_keep <= 1:
        raise UserError(f"--min-keep must be in [0, 1] (the smallest fraction of a group's "
                        f"channels kept; 0: one channel), got {min_keep}")


def predictor_key(model, space, example, device) -> tuple[LayerTable, PredictorKey]:
    table = LayerTable.from_model(model, space, example)
    return table, PredictorKey.for_device(device, tuple(example.shape), table)


def open_predictor(model, space, example, device, cache) -> tuple[LatencyPredictor, PredictorKey]:
    """For the search: the predictor stored for this device and model (refitted from its
    samples), or an empty one that update() fits once it has MIN_SAMPLES measurements.
    Save it back with `save_predictor(cache, key, predictor)` after updating."""
    table, key = predictor_key(model, space, example, device)
    return load_predictor(cache, key) or LatencyPredictor(table), key


def fit_on_device(model, space, example, device, cache, workdir, n: int, seed: int = 0,
                  min_keep: float = 0.0, fresh: bool = False,
                  passes: int = PASSES) -> tuple[LatencyPredictor, FitReport]:
    """Profile until the predictor has `n` architectures (a stored one counts), fit, store.
    `workdir` holds the exported files and must outlive the device session."""
    check_sampling(max(n, MIN_SAMPLES), min_keep)
    if n < MIN_SAMPLES:
        raise UserError(f"--n must be at least {MIN_SAMPLES} to fit a predictor, got {n}")
    start = time.perf_counter()
    table, key = predictor_key(model, space, example, device)
    stored = None if fresh else load_predictor(cache, key)
    predictor = stored or LatencyPredictor(table)
    have = list(predictor.samples)
    genomes = random_genomes(space, max(0, n - len(have)), np.random.default_rng(seed), min_keep,
                             exclude=[s.channels for s in have])
    new, measured = measure_genomes(model, example, genomes, device, workdir, passes=passes)
    predictor.fit(have + new)
    save_predictor(cache, key, predictor)
    return predictor, FitReport(len(predictor.samples), len(new), measured,
                                time.perf_counter() - start, predictor.chosen, stored is not None,
                                predictor.relative, passes)


def eval_on_device(model, space, example, device, cache, workdir, n: int, seed: int = 0,
                   min_keep: float = 0.0, passes: int = PASSES) -> dict:
    """Measure `n` random architectures the stored predictor was not fitted on; its errors,
    and how well the device repeated its own measurements of them (with passes > 1)."""
    check_sampling(n, min_keep)
    start = time.perf_counter()
    _, key = predictor_key(model, space, example, device)
    predictor = load_predictor(cache, key)
    if predictor is None or not predictor.chosen:
        raise UserError(f"no predictor stored for this model on {key.profile} (input "
                        f"{list(key.input_shape)}); run `edgeprune predictor fit` with the same "
                        "--device, --model and --input-shape first")
    genomes = random_genomes(space, n, np.random.default_rng(seed + EVAL_SEED_OFFSET), min_keep,
                             exclude=[s.channels for s in predictor.samples])
    samples, measured = measure_genomes(model, example, genomes, device, workdir,
                                          source="eval", passes=passes)
    result = evaluate_on(predictor, samples)
    result.update(measured=measured, passes=passes, repeatability=repeatability(samples),
                  seconds=time.perf_counter() - start,
                  fitted_on=len(predictor.samples), chosen=predictor.chosen)
    return result
