"""latency_source=predicted: a generation's front is audited, not measured whole, while the
predictor agrees with what it measures (search/front_audit.py)."""
import pytest

from pipeline.search.front_audit import audit_front
from pipeline.search.records import Evaluation

BASE_ACC, GAP = 0.90, 0.10


def member(name, accuracy, predicted, true_ms=None, measured=False):
    """A predicted-only front member (or a measured one) whose device time is `true_ms`."""
    ev = Evaluation(key=name, id=name, generation=1, channels={"g": 1}, params=1, macs=1,
                    accuracy_bn=accuracy, latency_source="predicted",
                    latency_predicted_ms=predicted)
    ev.extra["true_ms"] = true_ms if true_ms is not None else predicted
    if measured:
        ev.latency_ms, ev.latency_source = {"p50": ev.extra["true_ms"]}, "device"
    return ev


class FakeDevice:
    """Evaluator.measure_predicted's contract: measure the predicted-only ones, return them."""

    def __init__(self):
        self.measured = []

    def __call__(self, evals):
        todo = [e for e in evals if e.only_predicted]
        for e in todo:
            e.latency_ms, e.latency_source = {"p50": e.extra["true_ms"]}, "device"
        self.measured += [e.id for e in todo]
        return todo


def front(far_fast_true=1.0, near_fast_true=2.0):
    # accuracy 0.5 is outside the finish's gap however fast; 0.85 is the first it recovers
    return [member("far-fast", 0.50, 1.0, far_fast_true), member("near-fast", 0.85, 2.0,
            near_fast_true), member("near-mid", 0.87, 3.0), member("near-slow", 0.89, 4.0),
            member("done", 0.88, 3.5, measured=True)]


def test_a_trusted_predictor_gets_one_measurement_where_the_finish_will_look_first():
    device = FakeDevice()
    result = audit_front(front(near_fast_true=2.1), device, 1, BASE_ACC, GAP, 0.2)
    # The fastest within the gap, not the fastest overall (whose accuracy the finish skips)
    assert device.measured == ["near-fast"]
    assert (result.audited, result.off, result.measured) == (1, 0, 1)


def test_an_audit_more_than_the_tolerance_off_gets_the_whole_front_measured():
    device = FakeDevice()
    result = audit_front(front(near_fast_true=3.0), device, 1, BASE_ACC, GAP, 0.2)   # 33% off
    assert device.measured == ["near-fast", "near-mid", "near-slow", "far-fast"]
    assert (result.audited, result.off, result.measured) == (1, 1, 4)


def test_a_prediction_off_outside_the_audit_is_not_seen_until_the_final_front():
    # The audit measures what decides the winner; a bad guess elsewhere waits for the
    # final front's measurement (search_stage.measured_front), as designed.
    device = FakeDevice()
    audit_front(front(far_fast_true=5.0), device, 1, BASE_ACC, GAP, 0.2)
    assert device.measured == ["near-fast"]


# The finish's first picks: near-fast, near-mid, done (measured before), near-slow, far-fast.
@pytest.mark.parametrize("audit, want", [(-1, 4), (0, 0), (2, 2), (4, 3), (9, 4)])
def test_the_audit_size_and_minus_one_for_the_whole_front(audit, want):
    device = FakeDevice()
    result = audit_front(front(), device, audit, BASE_ACC, GAP, 0.2)
    assert result.measured == want == len(device.measured)
    assert "done" not in device.measured   # measured before: never measured again


def test_nothing_predicted_on_the_front_measures_nothing():
    device = FakeDevice()
    assert audit_front([member("m", 0.9, 1.0, measured=True)], device, 1, BASE_ACC, GAP,
                       0.2).measured == 0
    assert device.measured == []


def test_a_pick_measured_in_an_earlier_generation_is_not_paid_for_again():
    # A stable front: the finish's first pick was audited before, so nothing is measured,
    # not the next predicted member in its place.
    device = FakeDevice()
    members = [member("first", 0.88, 2.0, measured=True), member("second", 0.87, 3.0)]
    result = audit_front(members, device, 1, BASE_ACC, GAP, 0.2)
    assert device.measured == [] and result.measured == 0


def objectives():
    from pipeline.search.ga import Baseline, Objectives

    return Objectives(mode="nsga2", baseline=Baseline(BASE_ACC, 5.0, 1))


def test_members_below_the_floor_are_never_measured_even_when_the_audit_is_off():
    # The search stage audits the front it reports: the floor is applied once, there.
    from pipeline.search_stage import reported_front

    device = FakeDevice()
    result = audit_front(reported_front(front(near_fast_true=3.0), objectives(), 0.6), device,
                         1, BASE_ACC, GAP, 0.2)
    assert device.measured == ["near-fast", "near-mid", "near-slow"]   # not far-fast (0.50)
    assert (result.off, result.measured) == (1, 3)
    # Below the floor and outside the finish's gap: the audit has nothing to measure.
    assert audit_front(reported_front([member("junk", 0.1, 1.0), member("ok", 0.5, 2.0)],
                                      objectives(), 0.45), device, -1, BASE_ACC, GAP,
                       0.2).measured == 1
    assert device.measured[-1] == "ok"


def test_the_floor_never_leaves_the_finish_without_a_pruned_member():
    # A short search on a small task (the user-journey test): every pruned member's estimate
    # is below the floor; the most accurate of them stays, the unpruned model beside it.
    from pipeline.search_stage import reported_front

    full = {"g": 8}
    base = member("base", 0.90, 5.0, measured=True)
    base.channels = full
    members = [member("chance", 0.11, 0.5), member("low", 0.30, 1.0), base]
    assert [e.id for e in reported_front(members, objectives(), 0.45, full)] == ["low", "base"]
    # One pruned member at the floor: the rest below it stay off.
    members.append(member("fine", 0.45, 2.0))
    assert [e.id for e in reported_front(members, objectives(), 0.45, full)] == ["fine", "base"]


class FakeEvaluator:
    def __init__(self):
        self.measure_predicted = FakeDevice()


def test_the_final_front_leaves_members_below_the_floor_off_and_unmeasured():
    from pipeline.search_stage import measured_front

    # chance-level and half-accurate members, fastest of all: non-dominated, useless to ship
    members = [member("chance", 0.11, 0.5), member("half", 0.44, 0.8), *front()]
    evaluator = FakeEvaluator()
    reported = measured_front(members, objectives(), evaluator, floor=0.5 * BASE_ACC)
    assert [e.id for e in reported] == ["far-fast", "near-fast", "near-mid", "done", "near-slow"]
    assert "chance" not in evaluator.measure_predicted.measured
    assert "half" not in evaluator.measure_predicted.measured
    assert all(e.latency_ms for e in reported)
    # floor 0: the whole front, every member measured
    everything = measured_front(members, objectives(), FakeEvaluator(), floor=0.0)
    assert {"chance", "half"} <= {e.id for e in everything}


class BurstyDevice(FakeDevice):
    """The first measurement of some members lands in a burst of other work: `burst_ms`."""

    def __init__(self, burst_ms: dict):
        super().__init__()
        self.burst_ms, self.again = burst_ms, []

    def __call__(self, evals):
        todo = super().__call__(evals)
        for e in todo:
            if e.id in self.burst_ms:
                e.latency_ms = {"p50": self.burst_ms[e.id]}
        return todo

    def confirm(self, evals):   # Evaluator.measure_again: the faster of the two kept
        for e in evals:
            e.latency_ms = {"p50": min(e.latency_ms["p50"], e.extra["true_ms"])}
        self.again += [e.id for e in evals]


def test_an_audit_slowed_by_a_burst_is_measured_again_not_the_whole_front():
    device = BurstyDevice({"near-fast": 2.9})   # predicted 2.0, truly 2.1, measured in a burst
    result = audit_front(front(near_fast_true=2.1), device, 1, BASE_ACC, GAP, 0.2,
                         confirm=device.confirm)
    assert device.again == ["near-fast"] and device.measured == ["near-fast"]
    assert (result.off, result.measured) == (0, 2)   # its two measurements, nothing else


def test_a_prediction_truly_too_fast_still_gets_the_whole_front_measured():
    device = BurstyDevice({})
    result = audit_front(front(near_fast_true=3.0), device, 1, BASE_ACC, GAP, 0.2,
                         confirm=device.confirm)   # 2.0 predicted, 3.0 measured twice
    assert device.again == ["near-fast"]
    assert device.measured == ["near-fast", "near-mid", "near-slow", "far-fast"]
    assert (result.off, result.measured) == (1, 5)


def test_a_measurement_faster_than_predicted_is_not_measured_again():
    # A burst never speeds a measurement up: 1.5 against 2.0 predicted is a real miss.
    device = BurstyDevice({})
    result = audit_front(front(near_fast_true=1.5), device, 1, BASE_ACC, GAP, 0.2,
                         confirm=device.confirm)
    assert device.again == [] and result.off == 1 and result.measured == 4


def test_the_final_front_reprices_what_is_still_predicted_after_each_round():
    # The host ran 1.2x slower than every prediction: measured members look slow beside
    # predictions made earlier, and the dominated ones slip onto the front one by one.
    from pipeline.search_stage import measured_front

    def members():
        return [member(n, acc, ms, 1.2 * ms) for n, acc, ms in
                [("a", 0.80, 1.0), ("b", 0.85, 2.0), ("b2", 0.84, 2.2), ("c", 0.88, 3.0),
                 ("c2", 0.87, 3.3)]]

    stale = FakeEvaluator()
    measured_front(members(), objectives(), stale)
    assert stale.measure_predicted.measured == ["a", "b", "c", "b2", "c2"]

    evals = members()

    def reprice(measured):   # the search's level from what was just measured
        level = sum(e.latency_ms["p50"] / e.latency_predicted_ms for e in measured) / len(measured)
        for e in evals:
            if e.only_predicted:
                e.latency_predicted_ms *= level

    fresh = FakeEvaluator()
    front = measured_front(evals, objectives(), fresh, reprice=reprice)
    assert fresh.measure_predicted.measured == ["a", "b", "c"]
    assert [e.id for e in front] == ["a", "b", "c"]
