"""How well a cheap accuracy estimate ranks architectures like their accuracy after recovery.

The search keeps what its estimates rank best, so an estimate only has to *rank* like the
recovered accuracy, not equal it. Kendall's tau-b (ties counted, as validation accuracies on a
few hundred images often tie) is the measure the bench reports for each estimator.
"""
from __future__ import annotations


def kendall_tau(estimates, truth) -> float:
    """Kendall's tau-b of two equally long sequences; 1 = same order, -1 = reversed."""
    from scipy.stats import kendalltau

    if len(estimates) != len(truth):
        raise ValueError(f"{len(estimates)} estimates for {len(truth)} true values")
    if len(truth) < 2:
        raise ValueError("need at least two architectures to rank")
    tau = kendalltau(list(estimates), list(truth)).statistic
    return 0.0 if tau != tau else float(tau)  # NaN when one side is constant: no ranking
