"""A measured architecture: what the predictor learns from (the measurements are the truth)."""
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

    def to_dict(self) -> dict:
        return {"channels": dict(self.channels), "latency_ms": self.latency_ms,
                "source": self.source, "key": self.key, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: dict) -> "LatencySample":
        try:
            sample = cls({str(k): int(v) for k, v in data["channels"].items()},
                         float(data["latency_ms"]), str(data.get("source", "measured")),
                         str(data.get("key", "")), dict(data.get("extra", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"malformed latency sample ({exc}); refit the predictor") from None
        sample.check()
        return sample

    def check(self) -> None:
        if not math.isfinite(self.latency_ms) or self.latency_ms <= 0:
            raise UserError(f"a latency sample must have a positive measured latency, got "
                            f"{self.latency_ms!r}")
