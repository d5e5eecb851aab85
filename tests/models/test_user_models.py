"""User models (module:factory), torchvision absence, state_dict loading and their errors."""
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from pipeline.errors import UserError  # noqa: E402
from pipeline.models import build_model, check_input_shape, create_model, load_weights  # noqa: E402

USER_MODULE = """
import torch
from torch import nn

def tiny():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 3))

def broken():
    raise ValueError("no such width")

def not_a_model():
    return 42
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_user_models.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_user_models"
    sys.modules.pop("my_user_models", None)


def test_factory_reference_builds_the_model(user_module):
    model = build_model(f"{user_module}:tiny")
    assert model(torch.randn(1, 1, 8, 8)).shape == (1, 3)


@pytest.mark.parametrize("ref,message", [
    ("no_such_pkg_xyz.models:net", "cannot import module 'no_such_pkg_xyz.models'"),
    ("{mod}:missing", "has no callable 'missing'"),
    ("{mod}:broken", "raised ValueError: no such width"),
    ("{mod}:not_a_model", "returned int, not a torch nn.Module"),
    ("nonexistent-zoo-name", "unknown model"),
])
def test_bad_references_say_what_is_wrong(user_module, ref, message):
    with pytest.raises(UserError, match=message):
        build_model(ref.format(mod=user_module))


def test_torchvision_absence_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail
    with pytest.raises(UserError, match="torchvision cannot be imported"):
        build_model("torchvision:resnet18")


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".safetensors"])
def test_weights_load_from_each_format(tmp_path, suffix):
    source = create_model("lenet5-tiny", in_channels=1)
    path = tmp_path / f"w{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file
        save_file(source.state_dict(), str(path))
    else:
        torch.save(source.state_dict(), path)
    target = load_weights(create_model("lenet5-tiny", in_channels=1), path)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)


def test_mismatched_weights_name_key_and_both_shapes(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(create_model("lenet5-tiny", num_classes=5, in_channels=1).state_dict(), path)
    with pytest.raises(UserError) as info:
        load_weights(create_model("lenet5-tiny", num_classes=10, in_channels=1), path)
    text = str(info.value)
    assert "'classifier.5.weight'" in text and "(5, 12)" in text and "(10, 12)" in text


def test_missing_and_unexpected_keys_are_named(tmp_path):
    state = create_model("lenet5-tiny").state_dict()
    state["extra.weight"] = state.pop("classifier.5.bias")
    path = tmp_path / "w.pt"
    torch.save(state, path)
    with pytest.raises(UserError, match="first 'classifier.5.bias'.*first 'extra.weight'"):
        load_weights(create_model("lenet5-tiny"), path)


def test_pickled_module_is_refused(tmp_path):
    path = tmp_path / "whole_model.pt"
    torch.save(create_model("lenet5-tiny"), path)  # a pickled nn.Module, not a state_dict
    with pytest.raises(UserError, match="not a plain state_dict"):
        load_weights(create_model("lenet5-tiny"), path)


def test_input_shape_the_model_rejects():
    model = create_model("lenet5-tiny", in_channels=1)
    assert check_input_shape(model, (1, 1, 32, 32)) == (1, 10)
    with pytest.raises(UserError, match="rejects input shape 1,3,32,32"):
        check_input_shape(model, (1, 3, 32, 32))
