"""The blend: one importance score per channel from several criteria.

Per group, each criterion's scores are normalised within the group (their scales differ by
orders of magnitude between criteria and between layers) and summed with the blend's weights.
`Blend` is an importance factory, like the entries of `pipeline.prune.importance`: called
with (model, batches, forward) on the copy being pruned, it returns a torch-pruning
`Importance`, so `apply_genome(model, genome, x, importance=Blend(...), batches=...)` works.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from pipeline.errors import UserError

NORMALISATIONS = ("rank", "minmax")


@dataclass(frozen=True)
class Blend:
    criteria: tuple[str, ...]
    weights: tuple[float, ...]
    normalise: str = "rank"     # rank: ranks scaled to [0, 1]; minmax: scores scaled to [0, 1]

    def __post_init__(self):
        from pipeline.prune.importance import get_importance

        object.__setattr__(self, "criteria", tuple(str(c) for c in self.criteria))
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        if not self.criteria or len(self.criteria) != len(self.weights):
            raise UserError(f"a blend needs one weight per criterion, got criteria "
                            f"{list(self.criteria)} and weights {list(self.weights)}")
        if any(not w >= 0 for w in self.weights) or not any(w > 0 for w in self.weights):
            raise UserError(f"blend weights must be >= 0 with at least one > 0, got "
                            f"{list(self.weights)}")
        if self.normalise not in NORMALISATIONS:
            raise UserError(f"unknown blend normalisation '{self.normalise}'; choose rank or minmax")
        for name in self.criteria:
            get_importance(name)

    @property
    def label(self) -> str:
        return " + ".join(f"{w:.2f}*{c}" for c, w in zip(self.criteria, self.weights) if w > 0)

    def to_dict(self) -> dict:
        return {"criteria": list(self.criteria), "weights": list(self.weights),
                "normalise": self.normalise}

    @classmethod
    def from_dict(cls, d: dict) -> "Blend":
        if not isinstance(d, dict) or not isinstance(d.get("criteria"), list) \
                or not isinstance(d.get("weights"), list):
            raise UserError("a blend must be an object with lists 'criteria' and 'weights'")
        return cls(tuple(d["criteria"]), tuple(d["weights"]), str(d.get("normalise", "rank")))

    def __call__(self, model, batches, forward):
        """The torch-pruning Importance for `model` (criteria with weight 0 are not computed,
        so a blend without taylor needs no batches)."""
        from pipeline.prune.importance import get_importance

        used = [(c, w) for c, w in zip(self.criteria, self.weights) if w > 0]
        scorers = [(get_importance(c)(model, batches, forward), w) for c, w in used]
        return _importance_class()(scorers, self.normalise)


def normalise_scores(scores, how: str = "rank"):
    """Scores of one group mapped to [0, 1], order (and ties) kept."""
    import torch

    s = scores.detach().float().cpu()
    if s.numel() < 2:
        return torch.zeros_like(s)
    if how == "rank":
        from scipy.stats import rankdata

        ranks = torch.as_tensor(rankdata(s.numpy(), method="average"), dtype=torch.float32)
        return (ranks - 1) / (s.numel() - 1)
    span = s.max() - s.min()
    return (s - s.min()) / span if span > 0 else torch.zeros_like(s)


@functools.cache
def _importance_class():
    """Defined on first use: subclassing torch-pruning's ABC needs torch_pruning imported."""
    import torch_pruning as tp

    class BlendImportance(tp.importance.Importance):
        """Weighted sum of normalised criteria scores; a criterion with nothing to score in
        a group (bn without BatchNorm) is left out there; None if none has anything."""

        def __init__(self, scorers, normalise):
            self.scorers, self.normalise = scorers, normalise

        def __call__(self, group):
            total = None
            for scorer, weight in self.scorers:
                scores = scorer(group)
                if scores is None:
                    continue
                part = weight * normalise_scores(scores, self.normalise)
                total = part if total is None else total + part
            return total

    return BlendImportance
