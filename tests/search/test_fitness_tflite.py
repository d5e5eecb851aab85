"""Step-1 fitness on the real host-tflite device: a generation converted by worker processes,
then measured; every individual gets its own file and a real latency."""
import dataclasses

import pytest


@pytest.mark.slow
def test_generation_on_host_tflite_is_converted_then_measured(tmp_path):
    import torch

    from pipeline.config import Config, DataConfig
    from pipeline.data import load_data
    from pipeline.devices import load_profile, open_device
    from pipeline.export.tflite_pool import shutdown
    from pipeline.models.loading import build_model
    from pipeline.prune import SearchSpace
    from pipeline.search.fitness import Evaluator

    splits = load_data(DataConfig(name="digits", image_size=16), seed=0)
    torch.manual_seed(0)
    base = build_model("resnet20-tiny", in_channels=splits.input_shape[1]).eval()
    space = SearchSpace.from_model(base, torch.zeros(splits.input_shape), round_to=1)
    cfg = Config()
    cfg.search.export_workers = 2
    genomes = [space.uniform(k) for k in (0.8, 0.5, 0.3)]
    quick = {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 10, "min_time_s": 0.0,
             "drift_every": 0}
    profile = dataclasses.replace(load_profile("host-tflite"), **quick)
    try:
        with open_device(profile) as device:
            evaluator = Evaluator(base_model=base, space=space, splits=splits,
                                  search_cfg=cfg.search, recover_cfg=cfg.recover,
                                  device=device, workdir=tmp_path, seed=0)
            evals = evaluator.evaluate(genomes, generation=0)
    finally:
        shutdown()
    assert [e.channels for e in evals] == genomes
    assert sorted(p.stem for p in tmp_path.glob("*.tflite")) == sorted(e.key for e in evals)
    for ev in evals:
        assert ev.latency_source == "device" and ev.latency_ms["p50"] > 0
    assert evaluator.counters.measured == 3
    # The genomes really were applied: keeping 30% of the channels costs fewer MACs than 80%.
    assert evals[2].macs < evals[0].macs
