"""One evaluated architecture, as it is written to evaluations.jsonl and read back on resume."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


# Generations of the evaluations made outside the GA; they are recorded too (every
# architecture measured is in evaluations.jsonl), marked by `source`.
BASELINE = -1
SENSITIVITY = -2
SOURCES = {BASELINE: "baseline", SENSITIVITY: "sensitivity"}
# Latency sources whose numbers come from the device (measured, or predicted then measured).
DEVICE_SOURCES = ("device", "predicted")


def genome_key(channels: dict[str, int]) -> str:
    """Stable identity of an architecture: equal channel counts, equal key."""
    text = json.dumps(sorted(channels.items()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass
class Evaluation:
    key: str
    id: str                       # g<generation>-i<index> where it was first evaluated
    generation: int               # >= 0 the GA's; BASELINE or SENSITIVITY before it
    channels: dict[str, int]
    params: int
    macs: int
    accuracy_bn: float            # BN re-calibrated only, validation subset
    accuracy_kd: float | None = None  # step 2: short distillation, full validation
    accuracy_quick: float | None = None  # step 1: BN + a few distillation steps (estimate_steps)
    accuracy_mapped: float | None = None  # step 1 put on step 2's scale (search/estimates.py)
    latency_source: str = "device"    # device (measured) | predicted (only predicted) | flops | params
    latency_ms: dict | None = None    # LatencyStats.to_dict() when measured on the device
    latency_predicted_ms: float | None = None   # the device predictor's p50, where it predicted
    cached: bool = False          # latency came from the persistent cache
    feasible: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        """The best available estimate: step 2 where it was run, else step 1 on step 2's scale
        (once the search has step-2 results to map it with), else step 1."""
        if self.accuracy_kd is not None:
            return self.accuracy_kd
        if self.accuracy_mapped is not None:
            return self.accuracy_mapped
        return self.step1_accuracy

    @property
    def step1_accuracy(self) -> float:
        return self.accuracy_quick if self.accuracy_quick is not None else self.accuracy_bn

    @property
    def source(self) -> str:
        """Which step measured it first: 'search' (the GA), 'baseline' or 'sensitivity'."""
        return SOURCES.get(self.generation, "search")

    @property
    def error_step(self) -> str:
        if self.accuracy_kd is not None:
            return "kd_short"
        if self.accuracy_mapped is not None:
            return "mapped"
        return "kd_quick" if self.accuracy_quick is not None else "bn_recal"

    @property
    def only_predicted(self) -> bool:
        """Its latency is the device predictor's and nothing measured it yet."""
        return self.latency_source == "predicted" and not self.latency_ms

    def latency_objective(self) -> float:
        """The number the search minimises: p50 ms (measured, else predicted), or MMACs /
        M params for the proxies."""
        if self.only_predicted:
            return float(self.latency_predicted_ms)
        if self.latency_source in DEVICE_SOURCES:
            return float(self.latency_ms["p50"])
        if self.latency_source == "flops":
            return self.macs / 1e6
        return self.params / 1e6

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(accuracy=self.accuracy, error=1.0 - self.accuracy, error_step=self.error_step,
                 source=self.source)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Evaluation":
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})
