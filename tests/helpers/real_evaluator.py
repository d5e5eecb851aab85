"""A step-1 Evaluator on a real host device: resnet20-tiny on 16x16 digits, quick timing."""
import dataclasses
from contextlib import contextmanager

QUICK = {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 10, "min_time_s": 0.0,
         "drift_every": 0}


@contextmanager
def tiny_evaluator(profile_name: str, workdir, **search):
    """(Evaluator, SearchSpace) with the device open; `search` overrides SearchConfig fields."""
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
    for key, value in search.items():
        setattr(cfg.search, key, value)
    profile = dataclasses.replace(load_profile(profile_name), **QUICK)
    with open_device(profile) as device:
        yield Evaluator(base_model=base, space=space, splits=splits, search_cfg=cfg.search,
                        recover_cfg=cfg.recover, device=device, workdir=workdir, seed=0), space
