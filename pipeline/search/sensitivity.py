"""Layer sensitivity (seed method): prune each group alone at several ratios and see what it costs.

Accuracy drop is the cheap step-1 estimate; latency change is measured on the device. The search
uses the result to bound each gene (sensitive groups keep more channels) and to seed its
population.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.search.records import SENSITIVITY


@dataclass
class SensitivityRow:
    group: str
    channels: int
    keep: float
    kept_channels: int
    accuracy: float
    drop: float                # baseline accuracy - accuracy (fraction)
    latency: float             # latency objective (ms on the device)
    latency_change: float      # relative to the baseline, e.g. -0.12 = 12% faster


def layer_sensitivity(evaluator, space, baseline_accuracy: float, baseline_latency: float,
                      keeps=(0.25, 0.5, 0.75)) -> list[SensitivityRow]:
    genomes, meta = [], []
    for g in space.groups:
        tried = set()
        for keep in keeps:
            channels = space.uniform(keep)[g.name]
            if channels >= g.channels or channels in tried:
                continue  # rounding made this ratio the same as the full or a tested width
            tried.add(channels)
            genomes.append({g.name: channels})
            meta.append((g, keep, channels))
    evals = evaluator.evaluate([{**space.full(), **gen} for gen in genomes], generation=SENSITIVITY)
    rows = []
    for (g, keep, channels), ev in zip(meta, evals):
        lat = ev.latency_objective()
        rows.append(SensitivityRow(
            group=g.name, channels=g.channels, keep=keep, kept_channels=channels,
            accuracy=ev.accuracy, drop=baseline_accuracy - ev.accuracy, latency=lat,
            latency_change=lat / baseline_latency - 1.0))
    return rows


def gene_bounds(rows: list[SensitivityRow], tolerance: float) -> dict[str, float]:
    """Smallest tested keep whose cheap drop stays within `tolerance`; the most tested if none."""
    bounds: dict[str, float] = {}
    for group in {r.group for r in rows}:
        mine = sorted((r for r in rows if r.group == group), key=lambda r: r.keep)
        ok = [r.keep for r in mine if r.drop <= tolerance]
        bounds[group] = min(ok) if ok else max(r.keep for r in mine)
    return bounds


def sensitivity_scores(rows: list[SensitivityRow]) -> dict[str, float]:
    """Mean accuracy drop per group over the tested ratios: higher means more sensitive."""
    scores: dict[str, list[float]] = {}
    for r in rows:
        scores.setdefault(r.group, []).append(r.drop)
    return {g: sum(v) / len(v) for g, v in scores.items()}


def format_table(rows: list[SensitivityRow], unit: str = "ms") -> str:
    lines = [f"{'group':<28} {'ch':>4} {'keep':>5} {'acc drop':>9} {'latency':>10} {'change':>8}"]
    for r in rows:
        lines.append(f"{r.group:<28} {r.channels:>4} {r.keep:>5.2f} {100 * r.drop:>8.1f}% "
                     f"{r.latency:>8.3f}{unit:>2} {100 * r.latency_change:>7.1f}%")
    return "\n".join(lines)


def to_json(rows: list[SensitivityRow]) -> list[dict]:
    return [asdict(r) for r in rows]


def from_json(items: list[dict]) -> list[SensitivityRow]:
    return [SensitivityRow(**d) for d in items]
