"""A measured architecture: what the predictor learns from (the measurements are the truth).

reference_ms is the unpruned model's p50 measured in the same device session, next to the
sample: a shared or warming host moves every latency by the same factor for minutes at a
time (45-58% on this project's CI host), and a predictor of latency / reference learns the
architecture's cost without learning the host's mood of the hour."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.errors import UserError


@dataclass(frozen=True)
class LatencySample:
    channels: dict[str, int]      # the genome (groups left out keep all channels)
    latency_ms: float             # measured p50
    source: str = "measured"      # profiled | search | sensitivity | ...: where it came from
    key: str = ""                 # the measurement cache's key, when known
    extra: dict = field(default_factory=dict)
    reference_ms: float | None = None   # the unpruned model's p50 then (None: not measured)

    def to_dict(self) -> dict:
        return {"channels": dict(self.channels), "latency_ms": self.latency_ms,
                "source": self.source, "key": self.key, "extra": dict(self.extra),
                "reference_ms": self.reference_ms}

    @classmethod
    def from_dict(cls, data: dict) -> "LatencySample":
        try:
            sample = cls({str(k): int(v) for k, v in data["channels"].items()},
                         float(data["latency_ms"]), str(data.get("source", "measured")),
                         str(data.get("key", "")), dict(data.get("extra", {})),
                         None if data.get("reference_ms") is None else float(data["reference_ms"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"malformed latency sample ({exc}); refit the predictor") from None
        sample.check()
        return sample

    def check(self) -> None:
        if not math.isfinite(self.latency_ms) or self.latency_ms <= 0:
            raise UserError(f"a latency sample must have a positive measured latency, got "
                            f"{self.latency_ms!r}")
        if self.reference_ms is not None and not (math.isfinite(self.reference_ms)
                                                  and self.reference_ms > 0):
            raise UserError(f"a latency sample's reference latency must be positive, got "
                            f"{self.reference_ms!r}")
