"""A run folder's supernet read back as data: damaged copies are one line saying what to do."""
import pytest

from pipeline.errors import UserError
from pipeline.models import create_model
from pipeline.prune import SearchSpace, channel_order
from pipeline.supernet.store import _load, _save


@pytest.fixture
def saved(tmp_path):
    import torch

    model = create_model("resnet20-tiny", num_classes=10, in_channels=1).eval()
    example = torch.zeros(1, 1, 8, 8)
    space = SearchSpace.from_model(model, example)
    _save(tmp_path / "supernet", model, channel_order(model, example, "l1"), {"epochs": 1})
    return tmp_path / "supernet", model, space


def test_a_saved_supernet_loads_with_its_weights_and_order(saved):
    import torch

    folder, model, space = saved
    net = _load(folder, create_model("resnet20-tiny", num_classes=10, in_channels=1), space)
    assert all(torch.equal(a, b) for a, b in zip(net.model.state_dict().values(),
                                                  model.state_dict().values()))
    assert net.info == {"epochs": 1} and set(net.order) == {g.name for g in space.groups}


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "order.json").write_text("{not json"), "is corrupt"),
    (lambda f: (f / "weights.safetensors").write_bytes(b"\x00" * 12), "cannot be read"),
    (lambda f: (f / "weights.safetensors").unlink(), "cannot be read"),
])
def test_a_damaged_supernet_is_one_line_saying_to_delete_it(saved, damage, message):
    folder, model, space = saved
    damage(folder)
    with pytest.raises(UserError, match=message) as info:
        _load(folder, model, space)
    assert "delete" in str(info.value) and "\n" not in str(info.value)
