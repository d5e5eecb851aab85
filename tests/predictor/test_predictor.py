"""The predictor on a fake device whose latency is a known staircase function of the channels
(through the layer table, itself checked against torch-pruning's real cuts), refit on drift,
JSON round-trip and the cache store."""
import json

import numpy as np
import pytest
import torch

from pipeline.errors import UserError
from pipeline.models import build_model
from pipeline.predictor import (LatencyPredictor, LatencySample, LayerTable, PredictorKey,
                                load_predictor, random_genomes, save_predictor)
from pipeline.prune import SearchSpace, apply_genome

SHAPE = (1, 1, 16, 16)


def _setup(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=10, in_channels=1).eval()
    example = torch.zeros(SHAPE)
    space = SearchSpace.from_model(model, example)
    return model, example, space, LayerTable.from_model(model, space, example)


@pytest.fixture(scope="module")
def resnet():
    """ResNet-20 at full width (16-64 channels: many steps of 8), at a small input."""
    return _setup("resnet20")


def staircase_ms(table, genomes) -> np.ndarray:
    """A fake device: each conv/linear costs its MACs with channel counts rounded up to 8 (a
    SIMD tile), at an efficiency that differs per layer, plus its output activations and 2 us.
    Layer shapes come from the table, which test_layer_table_matches_real_pruning checks
    against torch-pruning's real cuts."""
    cin, cout, groups = table.shapes(genomes)
    tile = lambda c: -(-c // 8) * 8  # noqa: E731
    kernel, out_hw = np.asarray(table.kernel), np.asarray(table.out_hw)
    depthwise = np.asarray([k == "depthwise" for k in table.kind])
    padded_in = np.where(depthwise, 1, tile(cin // groups))
    efficiency = 1.0 + 0.5 * (np.arange(len(table.kernel)) % 3)
    per_layer = 2e-6 * efficiency * tile(cout) * padded_in * kernel * out_hw \
        + 3e-6 * cout * out_hw + 0.002
    return 0.01 + per_layer.sum(axis=1)


def _samples(table, genomes):
    return [LatencySample(g, float(ms)) for g, ms in zip(genomes, staircase_ms(table, genomes))]


@pytest.mark.parametrize("name", ["resnet20-tiny", "mobilenetv2-tiny"])
def test_layer_table_matches_real_pruning(name):
    model, example, space, table = _setup(name)
    assert {"conv", "linear"} <= set(table.kind)
    genomes = random_genomes(space, 4, np.random.default_rng(3), min_keep=0.05)
    cin, cout, groups = table.shapes(genomes)
    for row, genome in enumerate(genomes):
        modules = dict(apply_genome(model, genome, example).named_modules())
        for col, layer in enumerate(table.layer_names):
            m = modules[layer]
            want = (m.in_features, m.out_features, 1) if isinstance(m, torch.nn.Linear) \
                else (m.in_channels, m.out_channels, m.groups)
            assert (cin[row, col], cout[row, col], groups[row, col]) == want, layer


def test_staircase_latency_is_learned_within_2_percent(resnet):
    space, table = resnet[2:]
    genomes = random_genomes(space, 400, np.random.default_rng(0), min_keep=0.05)
    samples = _samples(table, genomes)
    fit, held_out = samples[:300], samples[300:]
    predictor = LatencyPredictor(table).fit(fit)
    measured = np.array([s.latency_ms for s in held_out])
    predicted = predictor.predict([s.channels for s in held_out])
    errors = np.abs(predicted / measured - 1)
    assert errors.max() <= 0.02, (predictor.chosen, errors.max())
    assert predictor.chosen["feature_set"] == "kinds+layers"   # per-layer costs differ
    # the staircase is real: one more channel past a multiple of 8 costs a whole tile
    group = table.group_names[0]
    steps = staircase_ms(table, [{group: 8}, {group: 9}, {group: 10}])
    assert steps[1] - steps[0] > 5 * (steps[2] - steps[1])


def blocked_layout_ms(table, genomes) -> np.ndarray:
    """A fake device with ONNX Runtime's NCHWc layout as measured (AVX-512, block 16): a
    depthwise conv runs blocked when its channels are a multiple of 4, any other conv when its
    input channels are (or are fewer than 16), on channels padded to 16; a plain conv costs 3x
    per MAC, a plain depthwise one 0.2 us per channel more, and each switch between the
    layouts reorders the activations at 4 ns each."""
    cin, cout, groups = table.shapes(genomes)
    kernel, out_hw = np.asarray(table.kernel), np.asarray(table.out_hw)
    depthwise = groups > 1
    on = np.where(depthwise, cout % 4 == 0, (cin < 16) | (cin % 4 == 0))
    padded = -(-cout // 16) * 16 * np.where(depthwise | (cin < 16), np.maximum(cin // groups, 1),
                                            -(-cin // 16) * 16) * kernel * out_hw
    macs = cout * np.maximum(cin // groups, 1) * kernel * out_hw
    per_channel = 2e-4 * cout * (depthwise & ~on)
    switches = (on[:, 1:] != on[:, :-1]) * (cout * out_hw)[:, :-1]
    return 0.01 + (1e-6 * np.where(on, padded, 3.0 * macs) + per_channel).sum(axis=1) \
        + 4e-6 * switches.sum(axis=1)


@pytest.mark.parametrize("name", ["resnet20", "mobilenetv2-tiny"])
def test_a_blocked_layout_is_learned_within_2_percent(name):
    """The stairs of ONNX Runtime's NCHWc layout are not a padding of the MACs: a layer off the
    layout changes kernel. The cross-validation picks the features that say so, with and
    without depthwise convs."""
    space, table = _setup(name)[2:]
    genomes = random_genomes(space, 400, np.random.default_rng(2), min_keep=0.05)
    samples = [LatencySample(g, float(ms)) for g, ms in zip(genomes, blocked_layout_ms(table, genomes))]
    predictor = LatencyPredictor(table).fit(samples[:300])
    measured = np.array([s.latency_ms for s in samples[300:]])
    errors = np.abs(predictor.predict([s.channels for s in samples[300:]]) / measured - 1)
    assert predictor.chosen["feature_set"] == "kinds+blocks"
    assert errors.max() <= 0.02, (predictor.chosen, errors.max())


def test_drift_flags_a_changed_device_and_update_refits(resnet):
    space, table = resnet[2:]
    genomes = random_genomes(space, 60, np.random.default_rng(1), min_keep=0.05)
    samples = _samples(table, genomes)
    predictor = LatencyPredictor(table, feature_set="kinds+layers", regressor="ridge").fit(samples[:40])
    probe = samples[40]
    assert not predictor.drifted(probe.channels, probe.latency_ms)
    # the device slows down by 1.5x (thermal throttling, a new runtime): predictions drift ...
    slower = [LatencySample(s.channels, 1.5 * s.latency_ms, "search") for s in samples[40:]]
    assert predictor.drifted(slower[0].channels, slower[0].latency_ms, tolerance=0.2)
    # ... and a refit on the new measurements (which replace the old ones) follows the device
    predictor.update(slower[:12] + [LatencySample(s.channels, 1.5 * s.latency_ms)
                                    for s in samples[:40]])
    assert len(predictor.samples) == 52
    assert not any(predictor.drifted(s.channels, s.latency_ms, tolerance=0.05) for s in slower[12:])


def test_json_round_trip_and_cache_store_refit_the_same_predictor(resnet, tmp_path):
    from pipeline.devices.cache import MeasurementCache

    space, table = resnet[2:]
    genomes = random_genomes(space, 40, np.random.default_rng(2), min_keep=0.05)
    predictor = LatencyPredictor(table).fit(_samples(table, genomes))
    text = json.dumps(predictor.to_dict())   # plain data, no pickle
    again = LatencyPredictor.from_dict(json.loads(text))
    probe = random_genomes(space, 20, np.random.default_rng(9), min_keep=0.05)
    assert np.allclose(again.predict(probe), predictor.predict(probe), rtol=1e-9)
    assert again.chosen == predictor.chosen

    cache = MeasurementCache(tmp_path / "latency.sqlite")
    key = PredictorKey("host-ort", "onnxruntime", "1.0", 1, (), SHAPE, table.digest())
    other = PredictorKey("host-ort", "onnxruntime", "1.0", 2, (), SHAPE, table.digest())
    save_predictor(cache, key, predictor)
    cache.close()
    reopened = MeasurementCache(tmp_path / "latency.sqlite")
    loaded = load_predictor(reopened, key)
    assert loaded is not None and load_predictor(reopened, other) is None
    assert np.allclose(loaded.predict(probe), predictor.predict(probe), rtol=1e-9)
    reopened.clear("host-ort")   # measurements cleared: the predictor fitted on them goes too
    assert load_predictor(reopened, key) is None


def test_predict_is_fast_and_rejects_bad_genomes(resnet):
    import time

    space, table = resnet[2:]
    genomes = random_genomes(space, 30, np.random.default_rng(4), min_keep=0.05)
    predictor = LatencyPredictor(table, regressor="ridge").fit(_samples(table, genomes))
    many = random_genomes(space, 2000, np.random.default_rng(5), min_keep=0.05)
    start = time.perf_counter()
    predictor.predict(many)
    assert time.perf_counter() - start < 1.0   # thousands per second, with room on a busy host
    group = table.group_names[0]
    with pytest.raises(UserError, match="keep 1.."):
        predictor.predict([{group: 0}])
    with pytest.raises(UserError, match="does not know"):
        predictor.predict([{"no.such.layer": 3}])
    with pytest.raises(UserError, match="at least"):
        LatencyPredictor(table).fit(_samples(table, genomes[:3]))
    with pytest.raises(UserError, match="positive"):
        LatencySample({group: 2}, -1.0).check()


def test_update_keeps_too_few_samples_unfitted_then_fits(resnet):
    space, table = resnet[2:]
    samples = _samples(table, random_genomes(space, 12, np.random.default_rng(6), min_keep=0.05))
    predictor = LatencyPredictor(table).update(samples[:3])
    assert not predictor.fitted and len(predictor.samples) == 3
    with pytest.raises(UserError, match="not fitted"):
        predictor.predict([samples[0].channels])
    predictor.update(samples[3:])
    assert predictor.fitted and predictor.chosen["feature_set"]


def test_a_host_whose_level_moves_is_predicted_relative_to_its_reference(resnet):
    """Fit at one level, part of it measured 40% slower (a busy shared host), evaluate at a
    third: with each sample's reference (the unpruned model timed beside it) the predictor
    learns latency / reference and stays within 2%; without, it cannot."""
    space, table = resnet[2:]
    full = staircase_ms(table, [space.full()])[0]
    genomes = random_genomes(space, 400, np.random.default_rng(0), min_keep=0.05)
    levels = np.where(np.arange(400) % 3 == 0, 1.4, 1.0)[:300].tolist() + [1.25] * 100
    true = staircase_ms(table, genomes)

    def samples(with_reference):
        return [LatencySample(g, float(ms * lv), reference_ms=float(full * lv) if with_reference
                              else None) for g, ms, lv in zip(genomes, true, levels)]

    relative = LatencyPredictor(table).fit(samples(True)[:300])
    absolute = LatencyPredictor(table).fit(samples(False)[:300])
    assert relative.relative and not absolute.relative
    held = samples(True)[300:]
    measured = np.array([s.latency_ms for s in held])
    rel = np.abs(relative.predict([s.channels for s in held], [s.reference_ms for s in held])
                 / measured - 1)
    abs_err = np.abs(absolute.predict([s.channels for s in held]) / measured - 1)
    assert rel.max() <= 0.02, rel.max()
    assert np.median(abs_err) > 0.05      # learned the average level, not the one of the hour
    # not told the level now, it scales by the samples' median reference (level 1.0 here)
    assert np.allclose(relative.predict([space.full()]), full, rtol=0.02)
    # references survive the JSON form; a mixed set (one sample without) falls back to absolute
    again = LatencyPredictor.from_dict(json.loads(json.dumps(relative.to_dict())))
    assert again.relative and again.reference_ms == pytest.approx(relative.reference_ms)
    assert not relative.update([LatencySample(genomes[0], float(true[0]))]).relative
    with pytest.raises(UserError, match="reference latency must be positive"):
        LatencySample(genomes[0], 1.0, reference_ms=0.0).check()


def test_the_default_draw_reaches_one_channel_per_group_as_the_search_does(resnet):
    # The search goes down to one channel (search.min_keep=0); a fit drawn from 5% up never saw
    # a 64-channel group below 3, and under-predicted that corner by 30-40% on LiteRT.
    space = resnet[2]
    wide = [g.name for g in space.groups if g.channels == 64]
    lowest = lambda genomes: min(g[n] for g in genomes for n in wide)  # noqa: E731
    assert lowest(random_genomes(space, 200, np.random.default_rng(0))) <= 2
    assert lowest(random_genomes(space, 200, np.random.default_rng(0), min_keep=0.05)) >= 3


def test_a_cost_floor_under_a_few_channels_is_learned_within_2_percent(resnet):
    """A runtime whose one-channel layers take a slow path (a fixed cost each, whatever their
    MACs), as LiteRT's did in the corner the search's fastest members sit in: the counts of
    small layers let the regression learn it."""
    space, table = resnet[2:]
    genomes = random_genomes(space, 400, np.random.default_rng(4), min_keep=0.0)
    _, cout, _ = table.shapes(genomes)
    ms = staircase_ms(table, genomes) + 0.05 * (cout < 2).sum(axis=1)
    assert (cout < 2).any(axis=1).mean() > 0.1   # the corner is drawn
    samples = [LatencySample(g, float(m)) for g, m in zip(genomes, ms)]
    predictor = LatencyPredictor(table).fit(samples[:300])
    errors = np.abs(predictor.predict([s.channels for s in samples[300:]]) / ms[300:] - 1)
    assert errors.max() <= 0.02, (predictor.chosen, errors.max())
