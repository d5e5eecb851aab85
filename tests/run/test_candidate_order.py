"""Which front members the main job recovers to find the fastest within 1 point."""
from pipeline.finish import candidate_order
from pipeline.search.records import Evaluation


def ev(i, acc, p50):
    return Evaluation(key=f"k{i}", id=f"g001-i{i:02d}", generation=1, channels={"a": i},
                      params=1, macs=1, accuracy_bn=acc, latency_ms={"p50": p50})


FRONT = [ev(0, 0.90, 0.10), ev(1, 0.975, 0.12), ev(2, 0.982, 0.14), ev(3, 0.992, 0.20),
         ev(4, 0.995, 0.30), ev(5, 0.999, 0.50)]


def test_starts_at_the_search_estimate_then_goes_faster_within_the_gap():
    first, slower = candidate_order(FRONT, base_acc=1.0, max_drop=0.01, gap=0.03, budget=3)
    assert [e.id for e in first] == ["g001-i03", "g001-i02", "g001-i01"]   # 0.90 is too far
    assert [e.id for e in slower] == ["g001-i04", "g001-i05"]


def test_budget_bounds_the_recoveries():
    first, slower = candidate_order(FRONT, base_acc=1.0, max_drop=0.01, gap=0.03, budget=1)
    assert [e.id for e in first] == ["g001-i03"] and len(slower) == 0


def test_nothing_estimated_within_the_drop_tries_the_most_promising_fastest_first():
    first, slower = candidate_order(FRONT[:3], base_acc=1.0, max_drop=0.01, gap=0.03, budget=3)
    assert first == [] and [e.id for e in slower] == ["g001-i01", "g001-i02"]
