"""The Device: real local runner sessions, and its retry logic against a scripted link."""
import pytest

from pipeline.devices.device import Device, open_device, throttle_began
from pipeline.devices.links import LinkLost
from pipeline.devices.profile import load_profile
from pipeline.devices.testing_models import make_conv_onnx
from pipeline.errors import DeviceError, UserError
from tests.devices.conftest import SHAPE, write_profile


def test_one_session_measures_a_batch_and_reuses_duplicates(tmp_path, local_profile):
    a = make_conv_onnx(tmp_path / "a.onnx", widths=(4, 8), input_shape=SHAPE)
    b = make_conv_onnx(tmp_path / "b.onnx", widths=(8, 16), input_shape=SHAPE)
    with open_device(local_profile) as device:
        ms = device.measure([a, b, a], SHAPE)
        assert device.reconnects == 0
    assert [m.cached for m in ms] == [False, False, True]
    assert ms[0].stats == ms[2].stats and ms[0].key != ms[1].key
    assert all(m.stats.n == 5 and m.facts["warmup_runs_done"] == 2 for m in ms[:2])
    assert ms[0].facts["runtime"] == "onnxruntime" and ms[0].facts["runtime_version"]


def test_wrong_input_shape_is_an_error_not_a_latency(onnx_model, local_profile):
    with open_device(local_profile) as device, pytest.raises(DeviceError, match="inference"):
        device.measure([onnx_model], (1, 3, 20, 20))


def test_model_the_runtime_rejects_is_a_device_error(tmp_path, local_profile):
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("NoSuchOp", ["input"], ["output"])
    value = helper.make_tensor_value_info
    graph = helper.make_graph([node], "g", [value("input", TensorProto.FLOAT, list(SHAPE))],
                              [value("output", TensorProto.FLOAT, list(SHAPE))])
    path = tmp_path / "unknown_op.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with open_device(local_profile) as device, pytest.raises(DeviceError, match="cannot load"):
        device.measure([path], SHAPE)


@pytest.mark.parametrize("name, content, error", [
    ("gone.onnx", None, "does not exist"),
    ("model.pt", b"x", "unknown model format"),
    ("corrupt.onnx", b"\x08\x07garbage\xff\xff", "not a valid ONNX file"),
])
def test_bad_model_files(tmp_path, local_profile, name, content, error):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with open_device(local_profile) as device, pytest.raises(UserError, match=error):
        device.measure([path], SHAPE)


def test_a_runner_that_dies_is_reported(onnx_model, local_profile):
    with open_device(local_profile) as device:
        device.check()
        device._link._proc.kill()
        with pytest.raises(DeviceError, match="runner process died"):
            device.measure([onnx_model], SHAPE)


def test_run_timeout_stops_a_measurement(onnx_model, tmp_path):
    profile = write_profile(tmp_path / "slow.toml", measure={"min_time_s": 30.0,
                                                             "run_timeout_s": 1.0})
    with open_device(profile) as device:
        device.check()
        with pytest.raises(DeviceError, match="no answer from the runner within 1.0 s"):
            device.measure([onnx_model], SHAPE)


def test_throttle_began():
    assert not throttle_began(None, 0x4) and not throttle_began(0x0, 0x0)
    assert throttle_began(0x0, 0x4)                 # throttled now
    assert throttle_began(0x0, 0x40000)             # happened during the run
    assert not throttle_began(0x50000, 0x50000)     # old history since boot, nothing new


class ScriptedLink:
    """Answers measure requests with given p50s; can drop the connection or throttle."""

    def __init__(self, script):
        self.script = script      # list of (p50_ms or "drop", throttled_after)
        self.requests = []

    def stage(self, path, keep=False):
        return str(path), False

    def request(self, message, timeout_s):
        if message["op"] == "facts":
            return {"ok": True, "facts": {"runtimes": {"onnxruntime": "9.9", "tflite": None},
                                          "problems": {"tflite": "no litert"}, "cpu": "fake"}}
        self.requests.append(message["path"])
        p50, throttled = self.script.pop(0)
        if p50 == "drop":
            raise LinkLost("peer vanished")
        return {"ok": True, "samples_ms": [p50] * 3, "runtime": "onnxruntime",
                "runtime_version": "9.9", "threads": 1, "cores": [], "throttled_before": 0,
                "throttled_after": throttled, "temperature_c_before": None,
                "temperature_c_after": None, "warmup_runs_done": 1, "load_s": 0,
                "warmup_s": 0, "timed_s": 0}

    def close(self):
        pass


def scripted_device(tmp_path, script, drift_every=0, max_retries=2, min_change_ms=0.0):
    path = write_profile(tmp_path / "scripted.toml", drift_every=drift_every,
                         drift_tolerance=0.1, measure={"max_retries": max_retries})
    path.write_text(path.read_text() + f"min_change_ms = {min_change_ms}\n")  # [drift] is last
    profile = load_profile(path)
    link = ScriptedLink(script)
    slept = []
    device = Device(profile, link_factory=lambda *a: link, sleep=slept.append)
    return device, link, slept


def models(tmp_path, n):
    return [make_conv_onnx(tmp_path / f"m{i}.onnx", widths=(4, 4 * (i + 1)), input_shape=SHAPE)
            for i in range(n)]


def test_throttled_measurement_is_rejected_and_retried_after_cooldown(tmp_path, capsys):
    device, link, slept = scripted_device(tmp_path, [(1.0, 0x4), (2.0, 0x0)])
    [m] = device.measure(models(tmp_path, 1), SHAPE)
    assert m.stats.p50_ms == 2.0 and len(link.requests) == 2
    assert slept == [device.profile.cooldown_s]
    assert "throttling began" in capsys.readouterr().err


def test_throttling_that_never_stops_raises(tmp_path):
    device, _, _ = scripted_device(tmp_path, [(1.0, 0x4)] * 3, max_retries=2)
    with pytest.raises(DeviceError, match="kept throttling"):
        device.measure(models(tmp_path, 1), SHAPE)


def test_dropped_connection_is_retried_and_reported(tmp_path, capsys):
    device, link, slept = scripted_device(tmp_path, [("drop", 0), (3.0, 0)])
    [m] = device.measure(models(tmp_path, 1), SHAPE)
    assert m.stats.p50_ms == 3.0 and device.reconnects == 1 and slept == [0.5]
    assert "connection lost (peer vanished)" in capsys.readouterr().err


def test_connection_that_keeps_dropping_surfaces(tmp_path):
    device, _, slept = scripted_device(tmp_path, [("drop", 0)] * 3, max_retries=2)
    with pytest.raises(DeviceError, match="connection dropped 3 times"):
        device.measure(models(tmp_path, 1), SHAPE)
    assert slept == [0.5, 1.0]  # exponential back-off


def test_drift_flags_the_device_and_redoes_affected_measurements(tmp_path, capsys):
    m0, m1, m2 = models(tmp_path, 3)
    script = [(1.0, 0), (5.0, 0), (6.0, 0),   # reference m0, then m1, m2 measured
              (1.5, 0),                         # reference re-measured: +50% -> drift
              (5.1, 0), (6.1, 0),               # m1, m2 redone after the cool-down
              (1.02, 0)]                        # reference back within tolerance
    device, link, slept = scripted_device(tmp_path, script, drift_every=2)
    ms = device.measure([m0, m1, m2], SHAPE)
    assert [m.stats.p50_ms for m in ms] == [1.0, 5.1, 6.1]
    assert [p.split("/")[-1] for p in link.requests] == ["m0.onnx", "m1.onnx", "m2.onnx",
                                                         "m0.onnx", "m1.onnx", "m2.onnx",
                                                         "m0.onnx"]
    assert len(device.drift_events) == 1 and device.drift_events[0]["change"] == pytest.approx(0.5)
    assert "DRIFT flagged" in capsys.readouterr().err and slept == [device.profile.cooldown_s]


def test_runtime_missing_for_a_format(tmp_path):
    device, _, _ = scripted_device(tmp_path, [])
    path = tmp_path / "m.tflite"
    path.write_bytes(b"x")
    with pytest.raises(DeviceError, match="no litert"):
        device.measure([path], SHAPE)


def test_drift_that_settles_at_a_new_level_becomes_the_baseline(tmp_path, capsys):
    m0, m1 = models(tmp_path, 2)
    script = [(1.0, 0), (5.0, 0), (1.5, 0),   # reference, m1, reference drifted +50%
              (7.5, 0), (1.52, 0)]             # m1 redone; reference stays at the new level
    device, link, _ = scripted_device(tmp_path, script, drift_every=1)
    ms = device.measure([m0, m1], SHAPE)
    assert [m.stats.p50_ms for m in ms] == [1.0, 7.5] and len(device.drift_events) == 1
    assert device._reference[1].p50_ms == 1.52 and "new level" in capsys.readouterr().err


def test_a_move_below_the_floor_is_noise_not_drift(tmp_path, capsys):
    m0, m1 = models(tmp_path, 2)
    # A 0.03 ms reference read at 0.05 ms is +67%, but only 0.02 ms: under the 0.05 ms floor.
    device, link, _ = scripted_device(tmp_path, [(0.03, 0), (0.04, 0), (0.05, 0)],
                                      drift_every=1, min_change_ms=0.05)
    ms = device.measure([m0, m1], SHAPE)
    assert [m.stats.p50_ms for m in ms] == [0.03, 0.04] and len(link.requests) == 3
    assert device.drift_events == [] and "DRIFT" not in capsys.readouterr().err
    # The same relative move on a 1 ms reference (0.67 ms) is drift.
    device, link, _ = scripted_device(tmp_path, [(1.0, 0), (4.0, 0), (1.67, 0), (4.1, 0),
                                                 (1.02, 0)], drift_every=1, min_change_ms=0.05)
    assert [m.stats.p50_ms for m in device.measure([m0, m1], SHAPE)] == [1.0, 4.1]
    assert len(device.drift_events) == 1


def test_drift_that_never_settles_raises(tmp_path):
    m0, m1 = models(tmp_path, 2)
    script = [(1.0, 0), (5.0, 0), (1.5, 0), (5.0, 0), (2.0, 0), (5.0, 0), (2.7, 0)]
    device, _, _ = scripted_device(tmp_path, script, drift_every=1, max_retries=2)
    with pytest.raises(DeviceError, match="kept drifting"):
        device.measure([m0, m1], SHAPE)
    assert len(device.drift_events) == 3
