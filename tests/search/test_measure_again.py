"""Evaluator.measure_again on the real host-ort device: an audit measured too slow is measured
once more and the faster p50 kept (a burst only slows a measurement down)."""
import dataclasses


def test_measured_again_keeps_the_faster_of_the_two(tmp_path):
    import torch

    from pipeline.config import Config, DataConfig
    from pipeline.data import load_data
    from pipeline.devices import load_profile, open_device
    from pipeline.models.loading import build_model
    from pipeline.prune import SearchSpace
    from pipeline.search.fitness import Evaluator

    splits = load_data(DataConfig(name="digits", image_size=16), seed=0)
    torch.manual_seed(0)
    base = build_model("resnet20-tiny", in_channels=splits.input_shape[1]).eval()
    space = SearchSpace.from_model(base, torch.zeros(splits.input_shape), round_to=1)
    cfg = Config()
    quick = {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 10, "min_time_s": 0.0,
             "drift_every": 0}
    profile = dataclasses.replace(load_profile("host-ort"), **quick)
    with open_device(profile) as device:
        evaluator = Evaluator(base_model=base, space=space, splits=splits,
                              search_cfg=cfg.search, recover_cfg=cfg.recover,
                              device=device, workdir=tmp_path, seed=0)
        burst, quiet = evaluator.evaluate([space.uniform(k) for k in (0.8, 0.5)], generation=0)
        burst.latency_ms = {**burst.latency_ms, "p50": 1e3}   # as if timed in a burst
        quiet.latency_ms = {**quiet.latency_ms, "p50": 1e-6}  # faster than any re-measurement
        before = evaluator.counters.measured
        evaluator.measure_again([burst, quiet])
    assert evaluator.counters.measured == before + 2
    assert 0 < burst.latency_ms["p50"] < 1e3 and burst.latency_ms["n"] > 0
    assert quiet.latency_ms["p50"] == 1e-6
