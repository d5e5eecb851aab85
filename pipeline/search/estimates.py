"""How well a cheap accuracy estimate ranks architectures like their accuracy after recovery,
and one scale for the search's two estimates.

The search keeps what its estimates rank best, so an estimate only has to *rank* like the
recovered accuracy, not equal it. Kendall's tau-b (ties counted, as validation accuracies on a
few hundred images often tie) is the measure the bench reports for each estimator.

The two steps are different scales, though: a step-2 fine-tune lifts a deeply pruned
architecture by 25 points over its step-1 score (65% -> 94% on digits). Compared raw, the few
refined architectures dominate every unrefined one near them, so what later generations find
never reaches the front. `put_on_refined_scale` maps every unrefined step-1 score onto step 2's
scale, by a monotone fit on the architectures that have both.
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


MIN_REFINED = 2   # refined architectures needed before step-1 scores are mapped


def monotone_map(xs, ys):
    """A non-decreasing map fitted on (x, y) pairs (scikit-learn's isotonic regression),
    clipped to the fitted range and to [0, 1]: how a cheap accuracy estimate is put on the
    scale of a costlier one, here and in the recovery outlook."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    fit = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    return fit.fit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)).predict


def put_on_refined_scale(evals, top: float) -> None:
    """Set `accuracy_mapped` of each unrefined evaluation from an isotonic fit of step-2 on
    step-1 accuracy over the refined ones (in place; cleared while there are too few).

    Two anchors keep the ends sane where no architecture was refined: the worst step-1 score
    seen maps to itself (a network at chance is not rescued by a short fine-tune) and `top`
    (the unpruned model's accuracy) maps to itself (nothing to recover there).
    """
    evals = list(evals)
    pairs = [(e.step1_accuracy, e.accuracy_kd) for e in evals if e.accuracy_kd is not None]
    if len(pairs) < MIN_REFINED or not evals:
        for e in evals:
            e.accuracy_mapped = None
        return
    low = min(e.step1_accuracy for e in evals)
    xs, ys = zip(*(pairs + [(low, low), (top, top)]))
    predict = monotone_map(xs, ys)
    for e in evals:
        if e.accuracy_kd is not None:
            e.accuracy_mapped = None   # its own step-2 result is the estimate
    todo = [e for e in evals if e.accuracy_kd is None]
    if todo:
        mapped = predict([e.step1_accuracy for e in todo])
        for e, m in zip(todo, mapped):
            e.accuracy_mapped = float(m)
