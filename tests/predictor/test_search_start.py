"""The predictor a search starts from is kept in the run folder, and a resume starts from it."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.predictor import LatencySample, random_genomes

from predictor.test_predictor import _setup, staircase_ms


def test_resume_starts_from_the_kept_predictor_not_the_cache(tmp_path):
    from pipeline.devices import load_profile, open_device
    from pipeline.errors import UserError
    from pipeline.search_stage import _open_predictor

    model, example, space, table = _setup("resnet20-tiny")
    sc = SimpleNamespace(predictor=True, latency_source="device", screen_factor=4)
    splits = SimpleNamespace(input_shape=tuple(example.shape))
    genomes = random_genomes(space, 20, np.random.default_rng(0), 0.05)
    with open_device(load_profile("host-ort")) as device:
        first = _open_predictor(sc, device, model, space, splits, tmp_path)
        first.predictor.update([LatencySample(g, float(ms)) for g, ms in
                                zip(genomes, staircase_ms(table, genomes))])
        kept = json.loads((tmp_path / "predictor_start.json").read_text())
        assert kept["samples"] == []          # it started empty: no stored predictor
        resumed = _open_predictor(sc, device, model, space, splits, tmp_path)
        assert resumed.predictor.samples == [] and not resumed.predictor.fitted
        (tmp_path / "predictor_start.json").write_text("{")
        with pytest.raises(UserError, match="predictor_start.json"):
            _open_predictor(sc, device, model, space, splits, tmp_path)
