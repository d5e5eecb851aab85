"""`edgeprune predictor fit|eval` end to end on a tiny model and the real host-ort device."""
import json

import pytest

from pipeline.cli import main

MODEL = ["--device", "host-ort", "--model", "resnet20-tiny", "--input-shape", "1,1,16,16"]


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEPRUNE_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_fit_then_eval_then_a_second_fit_starts_from_the_stored_predictor(cache_dir, capsys):
    assert main(["predictor", "fit", *MODEL, "--n", "10"]) == 0
    out = capsys.readouterr().out
    assert "10 new architecture(s), 10 measured now (2 pass(es)" in out and "fitted on 10" in out

    plot, result = cache_dir / "eval.png", cache_dir / "eval.json"
    assert main(["predictor", "eval", *MODEL, "--n", "4", "--plot", str(plot),
                 "--json", str(result)]) == 0
    out = capsys.readouterr().out
    assert "within ±10%" in out and str(plot) in out
    assert "the device against itself (2 passes per architecture)" in out
    data = json.loads(result.read_text())
    assert data["n"] == 4 and data["fitted_on"] == 10 and data["measured"] == 4
    # each point has both passes' p50; the lower is what was learned and judged
    assert all(len(p["passes_ms"]) == 2 and p["measured_ms"] == min(p["passes_ms"])
               for p in data["points"])
    assert data["repeatability"]["n"] == 4
    assert 0 <= data["within_10pct"] <= 1 and plot.stat().st_size > 1000
    assert not list(cache_dir.glob(".*tmp*"))   # atomic writes leave no temporary file

    assert main(["predictor", "fit", *MODEL, "--n", "12", "--passes", "1"]) == 0
    out = capsys.readouterr().out
    assert "started from the stored predictor, 2 new architecture(s)" in out
    assert "fitted on 12" in out

    # what the search calls: the stored predictor for this device and model, ready to screen
    import torch

    from pipeline.devices import MeasurementCache, open_device
    from pipeline.models import build_model
    from pipeline.predictor import open_predictor
    from pipeline.prune import SearchSpace

    torch.manual_seed(0)
    model = build_model("resnet20-tiny", num_classes=10, in_channels=1).eval()
    example = torch.zeros(1, 1, 16, 16)
    space = SearchSpace.from_model(model, example)
    cache = MeasurementCache()
    try:
        with open_device("host-ort", cache) as device:
            predictor, _ = open_predictor(model, space, example, device, cache)
    finally:
        cache.close()
    assert predictor.fitted and len(predictor.samples) == 12
    # each sample was timed beside the unpruned model: the predictor is relative to it
    assert predictor.relative and all(s.reference_ms > 0 for s in predictor.samples)
    assert data["relative"] and all(p["reference_ms"] > 0 for p in data["points"])
    assert predictor.predict([space.full(), space.uniform(0.5)]).min() > 0


def test_bad_input_is_a_one_line_error_before_any_measurement(cache_dir, capsys):
    assert main(["predictor", "fit", *MODEL, "--n", "0"]) == 2
    assert "--n must be" in capsys.readouterr().err
    assert main(["predictor", "fit", *MODEL, "--n", "10", "--min-keep", "-0.1"]) == 2
    assert "--min-keep" in capsys.readouterr().err
    assert main(["predictor", "fit", *MODEL, "--n", "10", "--passes", "0"]) == 2
    assert "--passes must be at least 1" in capsys.readouterr().err
    assert main(["predictor", "eval", *MODEL, "--plot", str(cache_dir / "x.txt")]) == 2
    assert ".png" in capsys.readouterr().err
    assert main(["predictor", "fit", "--device", "no-such-board", "--model", "resnet20-tiny"]) == 2
    assert "unknown device profile" in capsys.readouterr().err
    # eval needs a predictor fitted for this device and model
    assert main(["predictor", "eval", *MODEL, "--n", "3",
                 "--plot", str(cache_dir / "p.png")]) == 2
    assert "predictor fit" in capsys.readouterr().err
    assert not (cache_dir / "p.png").exists()
