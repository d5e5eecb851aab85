"""Genome <-> integer vector. Gene i is an index into group i's allowed channel counts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GeneSpace:
    names: tuple[str, ...]
    choices: tuple[tuple[int, ...], ...]   # allowed kept-channel counts per group, ascending
    lower: tuple[int, ...]                 # smallest allowed index per gene (sensitivity bound)
    # The device's SIMD width (its profile's round_to hint): genes stay per channel, but the
    # initial population and part of the mutations land on multiples of it, where latency
    # staircases step down. 1: no such pull.
    align: int = 1

    @classmethod
    def from_space(cls, space, min_keep: float, bounds: dict[str, float] | None = None,
                   align: int = 1) -> "GeneSpace":
        """bounds: per-group minimum keep fraction (from sensitivity); min_keep applies to all."""
        names, choices, lower = [], [], []
        for g in space.groups:
            opts = tuple(sorted(space.choices(g.name)))
            keep = max(min_keep, (bounds or {}).get(g.name, 0.0))
            floor = keep * g.channels
            lo = next((i for i, c in enumerate(opts) if c >= floor - 1e-9), len(opts) - 1)
            names.append(g.name)
            choices.append(opts)
            lower.append(lo)
        return cls(tuple(names), tuple(choices), tuple(lower), max(1, int(align)))

    @property
    def upper(self) -> tuple[int, ...]:
        return tuple(len(c) - 1 for c in self.choices)

    def decode(self, x) -> dict[str, int]:
        return {n: int(c[int(round(v))]) for n, c, v in zip(self.names, self.choices, x)}

    def encode(self, channels: dict[str, int]) -> np.ndarray:
        """Nearest allowed index per gene, clipped to the bounds."""
        x = []
        for n, c, lo in zip(self.names, self.choices, self.lower):
            want = channels.get(n, c[-1])
            idx = int(np.argmin([abs(v - want) for v in c]))
            x.append(max(lo, idx))
        return np.asarray(x, dtype=int)

    def keep_fraction(self, keeps: dict[str, float] | float) -> np.ndarray:
        """Vector keeping roughly the given fraction of each group's channels."""
        x = []
        for n, c in zip(self.names, self.choices):
            k = keeps if isinstance(keeps, float) else keeps.get(n, 1.0)
            x.append(k * c[-1])
        return self.encode(dict(zip(self.names, x)))

    def aligned(self, x, genes=None) -> np.ndarray:
        """x with each gene (or each where `genes` is True) moved to the nearest allowed count
        that is a multiple of `align`, within its bounds; a count under align / 2 stays (one
        channel is a legal, very fast architecture; rounding it up to 8 would hide it)."""
        out = np.asarray(x, dtype=float).round().astype(int)
        if self.align <= 1:
            return out
        for i, (opts, lo) in enumerate(zip(self.choices, self.lower)):
            if genes is not None and not genes[i]:
                continue
            count = opts[int(np.clip(out[i], lo, len(opts) - 1))]
            ok = [j for j in range(lo, len(opts)) if opts[j] % self.align == 0]
            if ok and count >= self.align / 2:
                # ties go up: the more accurate of two equally near steps
                out[i] = min(ok, key=lambda j: (abs(opts[j] - count), -opts[j]))
        return out

    def random(self, rng: np.random.Generator) -> np.ndarray:
        return np.asarray([rng.integers(lo, hi + 1) for lo, hi in zip(self.lower, self.upper)])


def initial_population(genes: GeneSpace, size: int, rng: np.random.Generator, min_keep: float,
                       sensitivity: dict[str, float] | None = None) -> np.ndarray:
    """The unpruned model, uniform ratios across the range (snapped to the device's SIMD width
    when the genes know one), sensitivity-guided individuals, then random ones; duplicates
    removed."""
    rows = [genes.encode({})]  # unpruned
    n_uniform = max(3, size // 3)
    for k in np.linspace(min_keep, 0.9, n_uniform):   # on the device's fast steps
        rows.append(genes.aligned(genes.keep_fraction(float(k))))
    if sensitivity:
        # Less sensitive groups give up more channels: spread keeps +-0.2 around a target by rank.
        order = sorted(genes.names, key=lambda n: sensitivity.get(n, 0.0))
        spread = np.linspace(-0.2, 0.2, len(order)) if len(order) > 1 else np.zeros(1)
        for target in np.linspace(min_keep + 0.15, 0.8, max(2, size // 4)):
            keeps = {n: float(np.clip(target + s, min_keep, 1.0)) for n, s in zip(order, spread)}
            rows.append(genes.keep_fraction(keeps))
    unique: list[np.ndarray] = []
    seen = set()
    for r in rows:
        if tuple(r) not in seen:
            seen.add(tuple(r))
            unique.append(r)
    tries = 0
    while len(unique) < size and tries < size * 50:
        r = genes.random(rng)
        tries += 1
        if tuple(r) not in seen:
            seen.add(tuple(r))
            unique.append(r)
    return np.stack(unique[:size])
