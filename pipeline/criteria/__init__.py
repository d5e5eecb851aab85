"""Blended filter-importance criteria: how far the criteria agree, which to keep, how to blend.

- `agreement`: per prunable group, the rank correlation of every pair of criteria, averaged
  into a criteria x criteria matrix; criteria clustered on it, one representative each.
- `blend`: `Blend(criteria, weights)`, an importance factory `apply_genome(importance=...)`
  accepts; per group, each criterion's scores normalised within the group, summed with weights.
- `search`: the weights found by a seeded pymoo GA whose fitness is the cheap accuracy estimate
  (BN re-calibration + a validation subset) at fixed architectures, checked on held-out data.
- `record`: criteria.json (read back as data) and the heat-map.

`import pipeline.criteria` stays light: torch, sklearn, pymoo are imported where used.
"""
from pipeline.criteria.blend import Blend

__all__ = ["Blend"]
