"""The run's side of the data: channels from a user model, the overlap warning, data.json."""
import json
import textwrap

import torch
from helpers.data_files import write_pngs

from pipeline.config import load_config

MODULE = textwrap.dedent('''
    import torch.nn as nn

    def build():
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
''')


def _user_model(tmp_path, monkeypatch):
    (tmp_path / "greynet.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    from pipeline.models import build_model

    weights = tmp_path / "w.pt"
    torch.save(build_model("greynet:build").state_dict(), weights)
    return weights


def _inputs(cfg):
    from pipeline.run import load_inputs

    splits, _, info = load_inputs(cfg)
    return splits, info


def test_weights_without_an_own_split_warn_and_channels_follow_the_model(tmp_path, monkeypatch,
                                                                         capsys):
    weights = _user_model(tmp_path, monkeypatch)
    for cls in ("cat", "dog"):
        write_pngs(tmp_path / "imgs" / cls, 10, mode="RGB")
    cfg = load_config(None, ["model.name=greynet:build", f"model.weights={weights}",
                             "data.name=folder", f"data.path={tmp_path / 'imgs'}"])
    splits, _ = _inputs(cfg)
    err = capsys.readouterr().err
    assert splits.input_shape == (1, 1, 32, 32)          # RGB files, 1-channel model
    assert "may overlap the data your weights were trained on" in err
    assert "data splits: your folder (no train/ val/ test/ sub-folders): train/val/test split here" in err


def test_an_own_split_needs_no_warning_and_is_recorded(tmp_path, monkeypatch, capsys):
    weights = _user_model(tmp_path, monkeypatch)
    for part, n in (("train", 10), ("test", 4)):
        for cls in ("cat", "dog"):
            write_pngs(tmp_path / "imgs" / part / cls, n, mode="L")
    cfg = load_config(None, ["model.name=greynet:build", f"model.weights={weights}",
                             "data.name=folder", f"data.path={tmp_path / 'imgs'}"])
    splits, _ = _inputs(cfg)
    assert "may overlap" not in capsys.readouterr().err
    record = json.loads(json.dumps(splits.describe()))
    assert record["test"] == 8 and record["test_from_source"]
    assert "your folder's own train/test split: train as given, less the val" in record["split_source"]


def test_report_states_where_the_splits_came_from(tmp_path):
    from pipeline.report.document import _data_note

    note = _data_note({"name": "fashion-mnist", "train": 10, "val": 2, "test": 3,
                       "split_source": "test: test part of Fashion-MNIST's official train/test split"})
    assert "10 train / 2 val / 3 test" in note and "Fashion-MNIST&#x27;s official" in note
    assert _data_note({}) == ""


def test_run_summary_states_where_the_splits_came_from():
    from pipeline.commands.run import format_summary

    summary = {"run_dir": "r", "winners": [],
               "baseline": {"accuracy_test": 0.9, "latency_ms": {"p50": 1.0}, "params": 10, "macs": 1e6},
               "data": {"name": "mnist", "train": 5, "val": 1, "test": 2,
                        "split_source": "test: test part of MNIST's official train/test split"}}
    text = format_summary(summary)
    assert "data: mnist, 5 train / 1 val / 2 test; test: test part of MNIST's official" in text
