"""The device's latency predictor inside a search: it screens, learns and is checked as it goes.

Each generation's measured architectures become samples (the measurements stay the truth:
reported latencies are never the predictor's); a prediction more than DRIFT off its later
measurement is logged, and the predictor is refitted before the next generation screens.
It is loaded from and saved to the device's measurement cache, so the next run on the same
board starts with it.

The stored predictor was fitted in other sessions; a search's own measurements can sit a few
percent off it all together (ResNet-20 on LiteRT, one day: median -4 to -6% in every search,
though its samples are relative to the baseline timed now). Such a shared offset is what makes a member
predicted a little too fast look non-dominated, get measured and drop off the front. So the
search keeps its `level`: the median of measured / predicted over the architectures it has
measured itself, which every prediction it hands out is multiplied by (the correction fitted
on end-to-end measurements; per search, never stored).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import UserError
from pipeline.progress import status

DRIFT = 0.2
LEVEL_MIN_SAMPLES = 3   # own measurements before the search's level replaces 1.0


def drifted(predicted_ms: float, measured_ms: float, tolerance: float = DRIFT) -> bool:
    """A prediction more than `tolerance` (relative) off its measurement: one rule for the
    front audit and the refit log."""
    return abs(predicted_ms / measured_ms - 1) > tolerance


@dataclass
class SearchPredictor:
    predictor: object              # pipeline.predictor.LatencyPredictor
    key: object                    # its PredictorKey in the cache
    cache: object                  # the device's MeasurementCache (None: not kept)
    seen: set = field(default_factory=set)   # evaluation keys already learned from
    drifted: int = 0               # predictions more than DRIFT off, over the run
    # the unpruned model's p50 in this search (its baseline): the reference its samples are
    # learned against and its predictions scaled by (None: absolute latencies)
    reference_ms: float | None = None
    level: float = 1.0             # this search's measured / predicted (median), see above
    own: dict = field(default_factory=dict)   # key -> (channels, p50) measured in this search

    @classmethod
    def open(cls, base_model, space, example, device) -> "SearchPredictor | None":
        """The stored predictor for this device and model (or a new one); None if the device
        cannot key one (the search then screens with its own surrogate alone)."""
        from pipeline.predictor.session import open_predictor

        cache = getattr(device, "cache", None)
        try:
            predictor, key = open_predictor(base_model, space, example, device, cache)
        except UserError as exc:
            status(f"latency predictor: not used ({exc})")
            return None
        if predictor.fitted:
            status(f"latency predictor: starting from the one stored for {key.profile} "
                   f"({len(predictor.samples)} measured architectures)")
        return cls(predictor, key, cache)

    def latency_model(self, genomes: list[dict]):
        """Predicted ms per genome, or None until it has enough measurements to be fitted."""
        if not self.predictor.fitted:
            return None
        return list(self.predictor.predict(genomes, self.reference_ms) * self.level)

    def observe(self, evaluations) -> dict:
        """Learn from newly measured evaluations; log and count the ones it predicted badly."""
        import numpy as np

        from pipeline.predictor.samples import LatencySample
        from pipeline.search.records import genome_key

        # A cached measurement the predictor already learned keeps the reference of the
        # session that measured it: it is not relabelled with this search's.
        known = {genome_key(s.channels) for s in self.predictor.samples}
        new = [e for e in evaluations if e.key not in self.seen and e.latency_ms
               and e.latency_source == "device" and not (e.cached and e.key in known)]
        if not new:
            return {"new": 0, "drifted": 0}
        ref = self.reference_ms
        bad = []
        if self.predictor.fitted:   # one vectorised prediction for the whole generation
            measured = np.array([e.latency_ms["p50"] for e in new])
            predicted = self.predictor.predict([e.channels for e in new], ref) * self.level
            off = np.abs(predicted / measured - 1)
            bad = [e for e, p, m in zip(new, predicted, measured) if drifted(p, m)]
        if bad:
            w = int(np.argmax(off))
            status(f"latency predictor: {len(bad)} of {len(new)} predictions more than "
                   f"{int(DRIFT * 100)}% off their measurement (worst {new[w].id}: predicted "
                   f"{predicted[w]:.3f} ms, measured {measured[w]:.3f} ms); refitting")
        self.predictor.update([LatencySample(e.channels, float(e.latency_ms["p50"]), "search",
                                             e.key, reference_ms=ref) for e in new])
        self.seen.update(e.key for e in new)
        self.drifted += len(bad)
        # A measurement from the cache was taken in another session, at that session's level.
        self.own.update({e.key: (e.channels, float(e.latency_ms["p50"])) for e in new
                         if not e.cached})
        self._relevel()
        if self.cache is not None and self.predictor.samples:
            from pipeline.predictor.store import save_predictor

            save_predictor(self.cache, self.key, self.predictor)
        return {"new": len(new), "drifted": len(bad)}

    def _relevel(self) -> None:
        """The search's level: measured / predicted over its own measurements, the median (a
        refit has just taken them in, so this is the offset the stored samples keep)."""
        import numpy as np

        if len(self.own) < LEVEL_MIN_SAMPLES or not self.predictor.fitted:
            return
        channels, measured = zip(*self.own.values())
        ratio = np.asarray(measured) / self.predictor.predict(list(channels), self.reference_ms)
        level = float(np.median(ratio))
        if abs(level / self.level - 1) > 0.02:
            status(f"latency predictor: this search measures {level:.3f}x what it predicts "
                   f"(median of {len(ratio)} of its own measurements); predictions scaled by it")
        self.level = level
