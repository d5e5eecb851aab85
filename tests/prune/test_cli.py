"""`edgeprune prune` and `edgeprune inspect`, including every bad input (one line, exit 2)."""
import json
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from pipeline.cli import main  # noqa: E402
from pipeline.models import create_model  # noqa: E402

USER_CODE = """
from torch import nn

def net():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 4))

def explode():
    raise RuntimeError("weights server unreachable")
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "cli_user_net.py").write_text(textwrap.dedent(USER_CODE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "cli_user_net"
    sys.modules.pop("cli_user_net", None)


def test_prune_by_ratio_then_inspect(tmp_path, capsys):
    out = tmp_path / "pruned"
    assert main(["prune", "--model", "resnet20-tiny", "--in-channels", "1", "--ratio", "0.5",
                 "--round-to", "2", "--out", str(out)]) == 0
    assert "params" in capsys.readouterr().out
    assert main(["inspect", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["input_shape"] == [1, 1, 32, 32]
    stem = next(g for g in info["groups"] if g["name"] == "conv1")
    assert (stem["channels"], stem["full"]) == (2, 4)
    full_params = sum(p.numel() for p in create_model("resnet20-tiny", in_channels=1).parameters())
    assert 0 < info["params"] < full_params


def test_prune_user_model_with_weights_and_channels_file(tmp_path, capsys, user_module):
    from cli_user_net import net

    weights = tmp_path / "w.pt"
    torch.save(net().state_dict(), weights)
    channels = tmp_path / "channels.json"
    channels.write_text(json.dumps({"0": 3}))
    out = tmp_path / "out"
    assert main(["prune", "--model", f"{user_module}:net", "--weights", str(weights),
                 "--input-shape", "1,1,16,16", "--channels", str(channels), "--out", str(out)]) == 0
    assert json.loads((out / "model.json").read_text())["channels"]["0"] == 3
    assert main(["inspect", str(out)]) == 2   # model.json's module is not imported on its say-so
    assert "--model" in capsys.readouterr().err
    assert main(["inspect", str(out), "--model", f"{user_module}:net"]) == 0
    assert any(line.split()[:2] == ["0", "3"] for line in capsys.readouterr().out.splitlines())


def test_inspect_a_model_and_list(capsys):
    assert main(["inspect", "lenet5-tiny", "--in-channels", "1"]) == 0
    assert "features.0" in capsys.readouterr().out
    assert main(["inspect", "--list"]) == 0
    text = capsys.readouterr().out
    assert "resnet20" in text and "taylor" in text


def _bad(tmp_path, user_module):
    mismatched = tmp_path / "mismatched.pt"
    torch.save(create_model("lenet5-tiny", num_classes=5).state_dict(), mismatched)
    out = str(tmp_path / "never")
    zoo = ["--model", "lenet5-tiny", "--out", out]
    return {
        "not importable": (["prune", "--model", "no_such_pkg_q:net", "--ratio", "0.5", "--out", out],
                           "cannot import module"),
        "factory raises": (["prune", "--model", f"{user_module}:explode", "--ratio", "0.5", "--out", out],
                           "weights server unreachable"),
        "weights mismatch": (["prune", *zoo, "--weights", str(mismatched), "--ratio", "0.5"],
                             "'classifier.5.weight' has shape (5, 12) in the file but (10, 12)"),
        "input shape": (["prune", *zoo, "--input-shape", "1,3,20,20", "--ratio", "0.5"],
                        "rejects input shape 1,3,20,20"),
        "ratio zero": (["prune", *zoo, "--ratio", "0"], "--ratio must be in (0, 1]"),
        "ratio above one": (["prune", *zoo, "--ratio", "1.5"], "--ratio must be in (0, 1]"),
        "unknown group": (["prune", *zoo, "--channels", str(tmp_path / "c.json")],
                          "unknown prunable group 'nope'"),
        "taylor without data": (["prune", *zoo, "--ratio", "0.5", "--importance", "taylor"],
                                "needs a few batches"),
        "unknown criterion": (["prune", *zoo, "--ratio", "0.5", "--importance", "l3"],
                              "unknown importance criterion 'l3'"),
        "missing weights file": (["prune", *zoo, "--weights", str(tmp_path / "x.pt"), "--ratio", "1"],
                                 "not found"),
        "inspect a file": (["inspect", str(mismatched)], "is a file"),
    }


BAD_CASES = ["not importable", "factory raises", "weights mismatch", "input shape", "ratio zero",
             "ratio above one", "unknown group", "taylor without data", "unknown criterion",
             "missing weights file", "inspect a file"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys, user_module):
    (tmp_path / "c.json").write_text(json.dumps({"nope": 1}))
    argv, message = _bad(tmp_path, user_module)[case]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgeprune: error:") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "never").exists()
