import pytest

from pipeline.devices.cache import MeasurementCache, cache_key, model_key
from pipeline.devices.device import open_device
from pipeline.devices.stats import summarize
from pipeline.devices.testing_models import make_conv_onnx
from pipeline.errors import UserError
from tests.devices.conftest import SHAPE


def test_model_key_ignores_weight_values_but_not_architecture(tmp_path):
    a = make_conv_onnx(tmp_path / "a.onnx", widths=(4, 8), input_shape=SHAPE, weights_seed=1)
    b = make_conv_onnx(tmp_path / "b.onnx", widths=(4, 8), input_shape=SHAPE, weights_seed=2)
    c = make_conv_onnx(tmp_path / "c.onnx", widths=(4, 16), input_shape=SHAPE, weights_seed=1)
    assert a.read_bytes() != b.read_bytes()
    assert model_key(a) == model_key(b)
    assert model_key(a) != model_key(c)


def test_other_formats_are_keyed_by_file_hash(tmp_path):
    one, two = tmp_path / "m1.tflite", tmp_path / "m2.tflite"
    one.write_bytes(b"abc")
    two.write_bytes(b"abd")
    assert model_key(one).startswith("sha256:") and model_key(one) != model_key(two)


def test_corrupt_onnx_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage\xff\xff\xff")
    with pytest.raises(UserError, match="not a valid ONNX file"):
        model_key(bad)


def test_key_changes_with_each_part():
    base = dict(model="m", profile="p", runtime="onnxruntime", runtime_version="1.0", threads=1,
                cores=(1,), input_shape=(1, 3, 8, 8))
    keys = {cache_key(**base)}
    for field, value in [("model", "n"), ("profile", "q"), ("runtime", "tflite"),
                         ("runtime_version", "1.1"), ("threads", 2), ("cores", (0,)),
                         ("input_shape", (1, 3, 9, 9))]:
        keys.add(cache_key(**dict(base, **{field: value})))
    assert len(keys) == 8


def test_put_get_stats_clear(tmp_path):
    cache = MeasurementCache(tmp_path / "lat.sqlite")
    stats = summarize([1.0, 2.0])
    cache.put("k1", stats, {"profile": "a", "runtime": "onnxruntime", "runtime_version": "1"})
    cache.put("k2", stats, {"profile": "b", "runtime": "tflite", "runtime_version": "2"})
    assert cache.get("k1")[0] == stats and cache.get("missing") is None
    assert cache.stats()["entries"] == 2
    assert cache.clear("a") == 1 and cache.get("k1") is None and cache.get("k2")
    assert cache.clear() == 1 and cache.stats()["entries"] == 0


def test_cached_latency_is_reused_across_sessions(tmp_path, local_profile):
    a = make_conv_onnx(tmp_path / "a.onnx", widths=(4, 8), input_shape=SHAPE, weights_seed=1)
    b = make_conv_onnx(tmp_path / "b.onnx", widths=(4, 8), input_shape=SHAPE, weights_seed=2)
    cache = MeasurementCache(tmp_path / "lat.sqlite")
    with open_device(local_profile, cache) as device:
        [first] = device.measure([a], SHAPE)
    with open_device(local_profile, cache) as device:
        [again, same_arch] = device.measure([a, b], SHAPE)
    assert not first.cached and again.cached and same_arch.cached
    assert again.stats == first.stats and same_arch.key == first.key


def test_a_fresh_measurement_skips_the_cache_and_replaces_what_it_held(tmp_path, local_profile):
    a = make_conv_onnx(tmp_path / "a.onnx", widths=(4, 8), input_shape=SHAPE, weights_seed=1)
    cache = MeasurementCache(tmp_path / "lat.sqlite")
    with open_device(local_profile, cache) as device:
        [first] = device.measure([a], SHAPE)
        [fresh] = device.measure([a], SHAPE, fresh=True)
        [after] = device.measure([a], SHAPE)
    assert not first.cached and not fresh.cached and after.cached
    assert after.stats == fresh.stats and fresh.stats != first.stats   # the new one is kept
