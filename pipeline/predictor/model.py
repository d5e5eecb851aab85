"""LatencyPredictor: a regression from architecture features to measured latency on one device.

The measured samples are the source of truth: the JSON form stores them with the layer table
and the chosen settings, and loading refits (milliseconds), so no fitted object is ever
serialised. Every fit minimises squared *relative* error (sample weight 1/latency^2), since
the use is "within 10%" at 0.1 ms and at 1 ms alike.

`fit` picks the feature set and regressor by K-fold cross-validation on the samples;
`update` keeps that choice and only refits, so it costs milliseconds per generation.

When every sample carries its session's reference (the unpruned model's p50 measured beside
it), the predictor is *relative*: it learns latency / reference, and a prediction is scaled by
the reference measured now (or, not given one, by the samples' median reference). A host whose
level moves between fit and use, or during a measuring session, then moves the prediction too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import UserError
from pipeline.predictor.features import FEATURE_SETS, features
from pipeline.predictor.layers import LayerTable
from pipeline.predictor.samples import LatencySample
from pipeline.search.records import genome_key

REGRESSORS = ("ridge", "boosted")
MIN_SAMPLES = 8
FORMAT_VERSION = 1


def _regressor(name: str):
    import warnings

    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    warnings.filterwarnings("ignore", module="sklearn")
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-6, 3, 19)))
    if name == "ridge":
        return ridge
    if name == "boosted":
        return _Boosted(ridge, HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1,
                                                             max_leaf_nodes=15, random_state=0))
    raise UserError(f"unknown predictor regressor '{name}'; use one of {', '.join(REGRESSORS)}")


class _Boosted:
    """Ridge for the additive part, gradient boosting on its relative residual (interactions
    a sum of layer costs misses: cache effects of a whole network, runtime thresholds)."""

    def __init__(self, base, residual):
        self.base, self.residual = base, residual

    def fit(self, x, y, sample_weight=None):
        self.base.fit(x, y, ridgecv__sample_weight=sample_weight)
        self.residual.fit(x, y / np.maximum(self.base.predict(x), 1e-9))
        return self

    def predict(self, x):
        return self.base.predict(x) * self.residual.predict(x)


def _fit(name: str, x: np.ndarray, y: np.ndarray):
    model = _regressor(name)
    weight = 1.0 / y ** 2
    if name == "ridge":
        return model.fit(x, y, ridgecv__sample_weight=weight)
    return model.fit(x, y, sample_weight=weight)


def _cross_validate(regressor: str, x: np.ndarray, y: np.ndarray, folds: int) -> dict:
    from sklearn.model_selection import KFold

    errors = np.empty(len(y))
    for train, test in KFold(min(folds, len(y)), shuffle=True, random_state=0).split(x):
        errors[test] = _fit(regressor, x[train], y[train]).predict(x[test]) / y[test] - 1
    return error_summary(errors)


@dataclass
class LatencyPredictor:
    table: LayerTable
    feature_set: str = "auto"        # one of FEATURE_SETS, or auto (cross-validated)
    regressor: str = "auto"          # one of REGRESSORS, or auto (cross-validated)
    samples: list[LatencySample] = field(default_factory=list)
    chosen: dict = field(default_factory=dict)   # what fit picked, with its CV errors
    _model: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.feature_set not in (*FEATURE_SETS, "auto"):
            raise UserError(f"unknown feature set '{self.feature_set}'; use auto or one of "
                            f"{', '.join(FEATURE_SETS)}")
        if self.regressor not in (*REGRESSORS, "auto"):
            raise UserError(f"unknown regressor '{self.regressor}'; use auto or one of "
                            f"{', '.join(REGRESSORS)}")

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, samples: list[LatencySample] | None = None, folds: int = 5) -> "LatencyPredictor":
        """Fit on `samples` (or the stored ones); choose settings by cross-validation."""
        if samples is not None:
            self.samples = []
            self._merge(samples)
        x, y = self._data()
        options = [(f, r) for f in (FEATURE_SETS if self.feature_set == "auto" else (self.feature_set,))
                   for r in (REGRESSORS if self.regressor == "auto" else (self.regressor,))]
        scores = {f"{f}/{r}": _cross_validate(r, x[f], y, folds) for f, r in options}
        error = {o: scores[f"{o[0]}/{o[1]}"]["mean_abs_rel"] for o in options}
        best = min(options, key=error.__getitem__)
        # ridge refits in milliseconds (update() runs every generation): boosting must earn it
        ridge = [o for o in options if o[1] == "ridge" and error[o] <= 1.05 * error[best] + 0.002]
        best = min(ridge, key=error.__getitem__) if ridge else best
        self.chosen = {"feature_set": best[0], "regressor": best[1], "cv": scores}
        self._model = _fit(best[1], x[best[0]], y)
        return self

    def update(self, new_samples: list[LatencySample]) -> "LatencyPredictor":
        """Add (or replace, by genome) samples and refit with the settings fit chose; the first
        time there are enough samples, fit (and choose). With fewer it only keeps them."""
        self._merge(new_samples)
        if not self.chosen:
            return self.fit() if len(self.samples) >= MIN_SAMPLES else self
        x, y = self._data((self.chosen["feature_set"],))
        self._model = _fit(self.chosen["regressor"], x[self.chosen["feature_set"]], y)
        return self

    def _merge(self, samples) -> None:
        by_key = {genome_key(self._complete(s.channels)): s for s in self.samples}
        for s in samples:
            if not isinstance(s, LatencySample):
                raise UserError("the predictor learns from LatencySample objects")
            s.check()
            by_key[genome_key(self._complete(s.channels))] = s   # a newer measurement wins
        self.samples = list(by_key.values())

    def _complete(self, channels: dict) -> dict:
        return {**dict(zip(self.table.group_names, self.table.group_channels)), **channels}

    def _data(self, feature_sets=FEATURE_SETS) -> tuple[dict, np.ndarray]:
        if len(self.samples) < MIN_SAMPLES:
            raise UserError(f"the predictor needs at least {MIN_SAMPLES} measured architectures, "
                            f"has {len(self.samples)}; run `edgeprune predictor fit` with a larger --n")
        genomes = [s.channels for s in self.samples]
        x = {f: features(self.table, genomes, f) for f in feature_sets}
        y = np.asarray([s.latency_ms for s in self.samples])
        if self.relative:
            y = y / np.asarray([s.reference_ms for s in self.samples])
        return x, y

    @property
    def fitted(self) -> bool:
        return self._model is not None

    @property
    def relative(self) -> bool:
        """Learns latency / reference: every sample has its session's reference."""
        return bool(self.samples) and all(s.reference_ms for s in self.samples)

    @property
    def reference_ms(self) -> float | None:
        """The samples' median reference: what a prediction is scaled by when not told."""
        refs = [s.reference_ms for s in self.samples if s.reference_ms]
        return float(np.median(refs)) if refs else None

    # --- using it --------------------------------------------------------------------------
    def predict(self, genomes: list[dict], reference_ms=None) -> np.ndarray:
        """Predicted p50 latency in ms, one per genome (vectorised: thousands per second).
        reference_ms: the unpruned model's p50 measured now (a number, or one per genome);
        used by a relative predictor, ignored by one fitted on absolute latencies."""
        if self._model is None:
            raise UserError("the predictor is not fitted yet; call fit() or load a stored one")
        if not genomes:
            return np.zeros(0)
        x = features(self.table, list(genomes), self.chosen["feature_set"])
        y = np.maximum(self._model.predict(x), 1e-9)
        if self.relative:
            y = y * np.asarray(reference_ms if reference_ms is not None else self.reference_ms,
                               dtype=float)
        return np.maximum(y, 1e-6)

    def drifted(self, genome: dict, measured_ms: float, tolerance: float = 0.2,
                reference_ms: float | None = None) -> bool:
        """True when the prediction for `genome` is more than `tolerance` (relative) off the
        measurement: the caller should log it and update() before trusting the next screen."""
        if measured_ms <= 0:
            raise UserError(f"measured latency must be positive, got {measured_ms}")
        predicted = float(self.predict([genome], reference_ms)[0])
        return abs(predicted - measured_ms) / measured_ms > tolerance

    # --- JSON (data only; loading refits from the samples) -----------------------------------
    def to_dict(self) -> dict:
        return {"format": FORMAT_VERSION, "feature_set": self.feature_set,
                "regressor": self.regressor, "chosen": self.chosen,
                "table": self.table.to_dict(), "samples": [s.to_dict() for s in self.samples]}

    @classmethod
    def from_dict(cls, data: dict) -> "LatencyPredictor":
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise UserError("stored predictor has an unknown format; refit it with "
                            "`edgeprune predictor fit`")
        predictor = cls(LayerTable.from_dict(data["table"]), str(data.get("feature_set", "auto")),
                        str(data.get("regressor", "auto")),
                        [LatencySample.from_dict(s) for s in data.get("samples", [])],
                        dict(data.get("chosen", {})))
        if predictor.chosen.get("feature_set") not in FEATURE_SETS or \
                predictor.chosen.get("regressor") not in REGRESSORS:
            return predictor.fit() if len(predictor.samples) >= MIN_SAMPLES else predictor
        return predictor.update([])


def error_summary(relative_errors) -> dict:
    """Shares within 5% / 10%, median and worst absolute relative error."""
    e = np.abs(np.asarray(relative_errors, dtype=np.float64))
    return {"n": int(e.size), "within_5pct": float(np.mean(e <= 0.05)),
            "within_10pct": float(np.mean(e <= 0.10)), "median_abs_rel": float(np.median(e)),
            "mean_abs_rel": float(np.mean(e)), "worst_abs_rel": float(np.max(e))}
