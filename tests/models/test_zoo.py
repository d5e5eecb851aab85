"""Every zoo model builds for any class / channel count and runs on 32x32 inputs."""
import pytest

torch = pytest.importorskip("torch")

from pipeline.errors import UserError  # noqa: E402
from pipeline.models import create_model, list_models, register_model  # noqa: E402

FAMILIES = ["lenet5", "resnet20", "resnet56", "vgg11", "vgg16", "mobilenetv2", "mobilenetv3"]


def test_every_family_has_a_tiny_variant():
    names = list_models()
    for family in FAMILIES:
        assert family in names and f"{family}-tiny" in names


@pytest.mark.parametrize("name", [f"{f}-tiny" for f in FAMILIES])
@pytest.mark.parametrize("classes,channels", [(10, 1), (7, 3)])
def test_tiny_models_run(name, classes, channels):
    model = create_model(name, num_classes=classes, in_channels=channels).eval()
    with torch.no_grad():
        assert model(torch.randn(2, channels, 32, 32)).shape == (2, classes)


def test_resnet20_is_the_standard_cifar_resnet():
    model = create_model("resnet20", num_classes=10, in_channels=3)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) == 19  # 1 stem + 3 stages x 3 blocks x 2 (+ fc = 20 weighted layers)
    assert sorted({c.out_channels for c in convs}) == [16, 32, 64]
    params = sum(p.numel() for p in model.parameters())
    assert 0.26e6 < params < 0.29e6  # the paper's 0.27M, plus the 1x1 shortcut convs


def test_resnet56_depth():
    model = create_model("resnet56")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) == 55


def test_mobilenets_have_their_signature_layers():
    v2 = create_model("mobilenetv2-tiny")
    assert any(isinstance(m, torch.nn.Conv2d) and m.groups == m.in_channels > 1 for m in v2.modules())
    v3 = create_model("mobilenetv3-tiny")
    kinds = {type(m).__name__ for m in v3.modules()}
    assert {"Hardswish", "SqueezeExcite", "Hardsigmoid"} <= kinds


def test_unknown_name_suggests_the_close_one():
    with pytest.raises(UserError, match="did you mean 'resnet20'"):
        create_model("resnet2O")


def test_register_model_adds_a_name():
    @register_model("test-only-net")
    def factory(num_classes=10, in_channels=3):
        return torch.nn.Conv2d(in_channels, num_classes, 1)

    assert "test-only-net" in list_models()
    assert create_model("test-only-net", num_classes=4, in_channels=2).out_channels == 4
