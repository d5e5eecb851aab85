"""One blend study: agreement -> clusters -> weight search -> held-out check, as one record.

`run_study` is what `edgeprune criteria` prints and what `search.importance = blend` uses;
`blend_for_run` finds the blend once per run folder (criteria.json) and reuses it after that.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.criteria.blend import Blend
from pipeline.errors import UserError
from pipeline.progress import status


@dataclass
class Study:
    criteria: list[str]
    correlation: str
    matrix: list[list[float]]
    pairs: list[list[int]]          # groups that contributed to each pair's mean
    clusters: list[list[str]]
    representatives: list[str]
    targets: dict                   # {label: genome}
    candidates: list[dict]          # every weight vector tried, with its fitness
    blend: dict                     # Blend.to_dict() of the chosen weights
    fitness: float                  # the chosen blend's mean accuracy on the search data
    holdout: dict                   # {"blend" | criterion: {target label: accuracy}}
    search_images: int
    holdout_images: int
    seed: int
    seconds: float                  # the whole study
    search_seconds: float           # the weight search alone
    search_evaluations: int         # pruned models scored by the weight search

    def to_dict(self) -> dict:
        return asdict(self)

    def chosen(self) -> Blend:
        return Blend.from_dict(self.blend)


def run_study(base_model, splits, space, ccfg, calib_batches, seed: int,
              extra_targets: dict | None = None) -> Study:
    """ccfg: a CriteriaConfig; space: the SearchSpace the uniform targets come from;
    extra_targets: {label: genome} judged too (e.g. architectures a GA chose)."""
    import numpy as np
    import torch

    from pipeline.criteria.agreement import agreement_matrix, cluster_criteria, group_scores
    from pipeline.criteria.search import Probe, WeightSearch

    n_val = len(splits.x_val)
    if ccfg.val_subset >= n_val:
        raise UserError(f"criteria.val_subset ({ccfg.val_subset}) must be smaller than the "
                        f"validation split ({n_val} images): the rest is the held-out check")
    start = time.perf_counter()
    torch.manual_seed(seed)
    names = tuple(ccfg.names)
    example = torch.zeros(splits.input_shape)
    scores = group_scores(base_model, example, names, batches=calib_batches)
    matrix, pairs = agreement_matrix(scores, names, ccfg.correlation)
    clustering = cluster_criteria(matrix, names, ccfg.cluster_threshold)
    status(f"criteria: clusters {' | '.join(', '.join(c) for c in clustering.clusters)}; "
           f"representatives {', '.join(clustering.representatives)}")
    targets = {f"uniform-{k:g}": space.uniform(k) for k in ccfg.keeps}
    targets.update(extra_targets or {})
    n = ccfg.val_subset
    probe = Probe(base_model, example, targets, calib_batches, splits.x_val[:n], splits.y_val[:n])
    search = WeightSearch(clustering.representatives, ccfg.population, ccfg.generations, seed,
                          ccfg.normalise)
    best = search.run(probe)
    chosen = search.blend(best.weights)
    held = Probe(base_model, example, targets, calib_batches, splits.x_val[n:], splits.y_val[n:])
    holdout = {"blend": held.accuracy(chosen)}
    for name in names:
        holdout[name] = held.accuracy(name)
    status(f"criteria: chosen blend {chosen.label}: search {100 * best.fitness:.2f}%, held-out "
           f"{100 * float(np.mean(list(holdout['blend'].values()))):.2f}%")
    return Study(criteria=list(names), correlation=ccfg.correlation,
                 matrix=np.round(matrix, 6).tolist(), pairs=pairs.tolist(),
                 clusters=[list(c) for c in clustering.clusters],
                 representatives=list(clustering.representatives), targets=targets,
                 candidates=[asdict(c) for c in search.candidates], blend=chosen.to_dict(),
                 fitness=best.fitness, holdout=holdout, search_images=n,
                 holdout_images=n_val - n, seed=seed, seconds=time.perf_counter() - start,
                 search_seconds=probe.seconds, search_evaluations=probe.evaluations)


def read_blend(path: Path) -> Blend:
    """The chosen blend of a criteria.json (plain JSON data, validated)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read '{path}' ({exc}); delete it to search the blend again") \
            from None
    return Blend.from_dict(data.get("blend") if isinstance(data, dict) else None)


def write_study(study: Study, out_dir: Path) -> tuple[Path, Path]:
    """criteria.json and criteria.png (the agreement heat-map), each written atomically."""
    from pipeline.criteria.heatmap import plot_agreement
    from pipeline.search.checkpoint import write_json_atomic

    out_dir = Path(out_dir)
    png = plot_agreement(study.matrix, study.criteria, out_dir / "criteria.png",
                         clusters=study.clusters, correlation=study.correlation)
    path = out_dir / "criteria.json"
    write_json_atomic(path, study.to_dict())
    return path, png


def blend_for_run(cfg, base_model, splits, space, calib_batches, run_dir: Path) -> Blend:
    """The run's blend: read from run_dir/criteria.json when there (resume), else found now."""
    path = Path(run_dir) / "criteria.json"
    if path.is_file():
        blend = read_blend(path)
        status(f"criteria: reusing the blend of {path.name}: {blend.label}")
        return blend
    study = run_study(base_model, splits, space, cfg.criteria, calib_batches, cfg.seed)
    write_study(study, run_dir)
    return study.chosen()
