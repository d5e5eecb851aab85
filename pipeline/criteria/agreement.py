"""How alike the criteria rank filters, and which of them say something the others do not.

Each criterion scores every channel of every prunable group of the trained model. Per group,
every pair of criteria gets a rank correlation (Spearman or Kendall) over that group's channels;
the matrix is the mean over groups. A group where a criterion cannot tell channels apart
(constant scores) or has nothing to score says nothing about that pair and is left out.
Criteria are then clustered on 1 - matrix; each cluster keeps one representative.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from pipeline.errors import UserError

CRITERIA = ("l1", "l2", "fpgm", "bn", "taylor")
METHODS = ("spearman", "kendall")


@dataclass(frozen=True)
class Clustering:
    clusters: tuple[tuple[str, ...], ...]   # criteria that rank alike, in the input order
    representatives: tuple[str, ...]        # one per cluster


def group_scores(model, example_inputs, criteria=CRITERIA, batches=None) -> dict[str, dict]:
    """{group name: {criterion: numpy scores per channel}} on a copy of `model`.

    A criterion with nothing to score in a group (bn without BatchNorm) is absent there.
    """
    from pipeline.prune.apply import prunable_groups
    from pipeline.prune.graph import build_graph, forward
    from pipeline.prune.importance import get_importance

    factories = {name: get_importance(name) for name in criteria}   # typos fail first
    work = copy.deepcopy(model)
    dg = build_graph(work, example_inputs)
    groups = prunable_groups(dg, work)
    out: dict[str, dict] = {name: {} for name in groups}
    for crit, factory in factories.items():
        scorer = factory(work, batches, forward)
        for name, g in groups.items():
            scores = scorer(g.group)
            if scores is not None:
                out[name][crit] = scores.detach().float().cpu().numpy()
    work.zero_grad(set_to_none=True)
    return out


def rank_correlation(a, b, method: str = "spearman") -> float | None:
    """Rank correlation of two score vectors; None when either is constant or too short."""
    import numpy as np
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if method not in METHODS:
        raise UserError(f"unknown rank correlation '{method}'; choose spearman or kendall")
    if a.shape != b.shape or a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    fn = stats.spearmanr if method == "spearman" else stats.kendalltau
    value = float(fn(a, b)[0])
    return None if np.isnan(value) else value


def agreement_matrix(scores: dict[str, dict], criteria=CRITERIA, method: str = "spearman"):
    """(matrix, pairs counted): mean per-group rank correlation of every pair of criteria.

    The diagonal is 1; a pair that no group could compare gets 0 (no evidence of agreement).
    """
    import numpy as np

    k = len(criteria)
    total, count = np.zeros((k, k)), np.zeros((k, k), dtype=int)
    for per_crit in scores.values():
        for i in range(k):
            for j in range(i + 1, k):
                a, b = per_crit.get(criteria[i]), per_crit.get(criteria[j])
                if a is None or b is None:
                    continue
                r = rank_correlation(a, b, method)
                if r is not None:
                    total[i, j] += r
                    count[i, j] += 1
    matrix = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    matrix = matrix + matrix.T
    count = count + count.T
    np.fill_diagonal(matrix, 1.0)
    return matrix, count


def cluster_criteria(matrix, criteria=CRITERIA, threshold: float = 0.2) -> Clustering:
    """Average-linkage clustering on the distance 1 - matrix; criteria closer than `threshold`
    (mean correlation above 1 - threshold) share a cluster. The representative is the member
    that agrees most with the rest of its cluster (ties: the first listed)."""
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    matrix = np.asarray(matrix, dtype=float)
    if len(criteria) == 1:
        return Clustering(((criteria[0],),), (criteria[0],))
    distance = np.clip(1.0 - matrix, 0.0, 2.0)
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    labels = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                     distance_threshold=threshold).fit_predict(distance)
    clusters, reps, seen = [], [], []
    for i, label in enumerate(labels):
        if label in seen:
            continue
        seen.append(label)
        members = [j for j in range(len(criteria)) if labels[j] == label]
        clusters.append(tuple(criteria[j] for j in members))
        agree = [matrix[j, members].sum() for j in members]
        reps.append(criteria[members[int(np.argmax(agree))]])
    return Clustering(tuple(clusters), tuple(reps))
