"""The rank agreement the bench reports for accuracy estimates."""
import pytest

from pipeline.search.estimates import kendall_tau


def test_same_order_is_one_and_reversed_is_minus_one():
    truth = [0.91, 0.95, 0.97, 0.99]
    assert kendall_tau([0.5, 0.6, 0.7, 0.8], truth) == pytest.approx(1.0)
    assert kendall_tau([0.8, 0.7, 0.6, 0.5], truth) == pytest.approx(-1.0)


def test_one_swapped_pair_of_four():
    # 6 pairs, one discordant: (5 - 1) / 6
    assert kendall_tau([1, 2, 4, 3], [1, 2, 3, 4]) == pytest.approx(4 / 6)


def test_constant_estimate_ranks_nothing():
    assert kendall_tau([0.9, 0.9, 0.9], [0.1, 0.2, 0.3]) == 0.0


def test_lengths_must_match():
    with pytest.raises(ValueError):
        kendall_tau([1, 2], [1, 2, 3])


def _ev(key, latency, step1, kd=None):
    from pipeline.search.records import Evaluation

    return Evaluation(key=key, id=key, generation=0, channels={"a": 1}, params=1, macs=1,
                      accuracy_bn=step1, accuracy_kd=kd, latency_ms={"p50": latency})


def test_step1_scores_are_put_on_step2s_scale_in_order():
    from pipeline.search.estimates import put_on_refined_scale

    evals = [_ev("a", 0.20, 0.65, kd=0.94), _ev("b", 0.30, 0.80, kd=0.97),
             _ev("c", 0.10, 0.20), _ev("d", 0.19, 0.66), _ev("e", 0.5, 0.75), _ev("f", 0.9, 0.99)]
    put_on_refined_scale(evals, top=0.99)
    mapped = {e.key: e.accuracy_mapped for e in evals}
    assert mapped["a"] is None and mapped["b"] is None          # refined: their own step 2
    assert evals[0].accuracy == 0.94 and evals[0].error_step == "kd_short"
    assert mapped["c"] == pytest.approx(0.20)                    # the worst maps to itself
    assert mapped["f"] == pytest.approx(0.99)                    # the unpruned end too
    assert mapped["c"] < mapped["d"] <= mapped["e"] <= mapped["f"]  # step 1's order kept
    assert mapped["d"] >= 0.94 and evals[3].error_step == "mapped"


def test_a_better_unrefined_architecture_is_not_shut_out_by_a_refined_one():
    from pipeline.search.estimates import put_on_refined_scale
    from pipeline.search.ga import Baseline, Objectives, non_dominated

    objectives = Objectives(mode="nsga2", baseline=Baseline(0.99, 1.0, 100))
    # A later generation's architecture scores better on step 1 than a refined one of almost
    # the same latency (70% against 65%)...
    refined, rival = _ev("a", 0.19, 0.65, kd=0.94), _ev("d", 0.20, 0.70)
    evals = [refined, rival, _ev("b", 0.30, 0.80, kd=0.97), _ev("c", 0.10, 0.20)]
    # ...yet raw, its 70% is dominated by the refined one's step-2 94%.
    assert rival not in non_dominated(evals, objectives)
    put_on_refined_scale(evals, top=0.99)
    assert rival.accuracy > refined.accuracy and rival in non_dominated(evals, objectives)


def test_too_few_refined_leaves_step1_as_it_is():
    from pipeline.search.estimates import put_on_refined_scale

    evals = [_ev("a", 0.2, 0.65, kd=0.94), _ev("d", 0.19, 0.66)]
    evals[1].accuracy_mapped = 0.5
    put_on_refined_scale(evals, top=0.99)
    assert evals[1].accuracy_mapped is None and evals[1].accuracy == 0.66
