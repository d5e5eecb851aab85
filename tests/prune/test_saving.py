"""Pruned models round-trip through model.json + model.safetensors, with no pickle."""
import json
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from pipeline.errors import UserError  # noqa: E402
from pipeline.models import create_model  # noqa: E402
from pipeline.prune import SearchSpace, apply_genome, load_pruned, save_pruned  # noqa: E402

X = torch.randn(2, 1, 32, 32)


def round_trip(model, ref, tmp_path, num_classes=10, model_ref=None):
    space = SearchSpace.from_model(model, X[:1], round_to=2)
    genome = space.uniform(0.5)
    pruned = apply_genome(model, genome, X[:1], importance="fpgm")
    save_pruned(tmp_path / "out", pruned, ref, genome, {"note": "test"}, num_classes=num_classes,
                in_channels=1, input_shape=(1, 1, 32, 32))
    loaded, meta = load_pruned(tmp_path / "out", model_ref)
    with torch.no_grad():
        torch.testing.assert_close(loaded(X), pruned.eval()(X))
    return meta


def test_zoo_model_round_trip_without_pickle(tmp_path):
    torch.manual_seed(0)
    meta = round_trip(create_model("mobilenetv3-tiny", in_channels=1).eval(), "mobilenetv3-tiny", tmp_path)
    assert meta == {"note": "test"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.json", "model.safetensors"]
    record = json.loads((tmp_path / "out" / "model.json").read_text())
    assert record["base_ref"] == "mobilenetv3-tiny" and record["input_shape"] == [1, 1, 32, 32]
    # safetensors: an 8-byte header length, then a JSON header; a pickle starts with 0x80
    head = (tmp_path / "out" / "model.safetensors").read_bytes()[:9]
    assert head[8:9] == b"{"


def test_user_factory_round_trip(tmp_path, monkeypatch):
    (tmp_path / "saved_user_net.py").write_text(textwrap.dedent("""
        from torch import nn
        def net():
            return nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.Conv2d(8, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                 nn.Flatten(), nn.Linear(8, 4))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        from saved_user_net import net
        # A user model is rebuilt only when the caller names it again (--model): the record
        # alone never makes the loader import a module.
        round_trip(net().eval(), "saved_user_net:net", tmp_path, num_classes=4,
                   model_ref="saved_user_net:net")
        with pytest.raises(UserError, match="never imported"):
            load_pruned(tmp_path / "out")
    finally:
        sys.modules.pop("saved_user_net", None)


def test_changed_base_is_reported(tmp_path):
    model = create_model("lenet5-tiny", in_channels=1)
    save_pruned(tmp_path, model, "lenet5-tiny", {}, {}, in_channels=1, input_shape=(1, 1, 32, 32))
    record = json.loads((tmp_path / "model.json").read_text())
    record["num_classes"] = 7
    (tmp_path / "model.json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="do not fit the rebuilt architecture"):
        load_pruned(tmp_path)


def test_not_a_pruned_folder(tmp_path):
    with pytest.raises(UserError, match="no model.json"):
        load_pruned(tmp_path)
