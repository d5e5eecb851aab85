"""Catalogue of awkward topologies, one small model each (shapes checked where pruned,
values where not)."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def conv_bn(cin, cout, k=3, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class Head(nn.Module):
    def __init__(self, cin, classes=3):
        super().__init__()
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8)
        self.a = conv_bn(8, 8)
        self.b = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.head = Head(8)

    def forward(self, x):
        x = self.stem(x)
        return self.head(F.relu(x + self.b(self.a(x))))


class DenseConcat(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 6)
        self.grow1 = conv_bn(6, 4)
        self.grow2 = conv_bn(10, 4)
        self.head = Head(14)

    def forward(self, x):
        x0 = self.stem(x)
        x1 = torch.cat([x0, self.grow1(x0)], dim=1)
        return self.head(torch.cat([x1, self.grow2(x1)], dim=1))


class ChannelSplit(nn.Module):
    """split with sizes computed from the tensor, then chunk into a gated pair."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8)
        self.left = conv_bn(4, 6)
        self.right = conv_bn(4, 6)
        self.gate_src = nn.Conv2d(12, 8, 1)
        self.head = Head(4)

    def forward(self, x):
        x = self.stem(x)
        half = x.shape[1] // 2
        a, b = torch.split(x, [half, x.shape[1] - half], dim=1)
        y = self.gate_src(torch.cat([self.left(a), self.right(b)], dim=1))
        value, gate = y.chunk(2, dim=1)
        return self.head(value * torch.sigmoid(gate))


class GroupedDepthwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, k=1)
        self.grouped = conv_bn(8, 8, groups=2)
        self.expand = conv_bn(8, 12, k=1)
        self.depthwise = conv_bn(12, 12, groups=12)
        self.project = conv_bn(12, 8, k=1)
        self.head = Head(8)

    def forward(self, x):
        x = self.grouped(self.stem(x))
        return self.head(self.project(self.depthwise(self.expand(x))))


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = conv_bn(3, 16)
        self.squeeze = nn.Linear(16, 4)
        self.excite = nn.Linear(4, 16)
        self.head = Head(16)

    def forward(self, x):
        x = self.body(x)
        w = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean((2, 3))))))
        return self.head(x * w.view(x.shape[0], -1, 1, 1))


class FlattenLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8), nn.MaxPool2d(2), conv_bn(8, 8), nn.MaxPool2d(2))
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(torch.flatten(self.features(x), 1))))


class DictInput(nn.Module):
    """forward takes one batch dict and returns a dict, like many training codebases."""

    def __init__(self):
        super().__init__()
        self.image = conv_bn(3, 8)
        self.depth = conv_bn(1, 8)
        self.head = Head(8)
        self.aux = nn.Linear(8, 2)

    def forward(self, batch):
        x = self.image(batch["image"]) + self.depth(batch["depth"])
        return {"logits": self.head(x), "aux": self.aux(x.mean((2, 3)))}


class TupleInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = conv_bn(3, 6)
        self.right = conv_bn(3, 6)
        self.head = Head(12)

    def forward(self, left, right):
        return self.head(torch.cat([self.left(left), self.right(right)], dim=1))


class HandWrittenConv(nn.Module):
    """A layer torch-pruning knows nothing about: its own weight, applied with F.conv2d."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)

    def forward(self, x):
        return F.conv2d(x, self.weight, padding=1)


class WithUnknownOp(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8)
        self.custom = HandWrittenConv(8, 8)
        self.mid = conv_bn(8, 8)
        self.tail = conv_bn(8, 8)
        self.head = Head(8)

    def forward(self, x):
        return self.head(self.tail(self.mid(self.custom(self.stem(x)))))


def image(c=3, size=8):
    return torch.randn(2, c, size, size)


def test_residual_add_prunes_both_branches_together(check_prunes):
    space, half = check_prunes(Residual(), image())
    coupled = next(g for g in space.groups if "b.0" in g.layers)
    assert "stem.0" in coupled.layers  # the add ties the stem to the block's last conv
    assert half.stem[0].out_channels == half.b[0].out_channels == 4


def test_dense_concat_keeps_offsets_consistent(check_prunes):
    space, half = check_prunes(DenseConcat(), image())
    assert {"stem.0", "grow1.0", "grow2.0"} <= {g.name for g in space.groups}
    assert half.head.fc.in_features == sum(m.out_channels for m in (half.stem[0], half.grow1[0], half.grow2[0]))


def test_channel_split_and_chunk(check_prunes):
    model = ChannelSplit()
    space, half = check_prunes(model, image())
    # the split sizes are computed in forward and the chunk ties value to gate channels:
    # torch-pruning cannot keep those consistent, so the probe leaves both producers alone
    assert {u.split()[0] for u in space.unprunable} == {"stem.0", "gate_src"}
    assert half.stem[0].out_channels == 8 and half.gate_src.out_channels == 8
    assert half.left[0].out_channels == half.right[0].out_channels == 3


def test_grouped_conv_left_unpruned_depthwise_pruned(check_prunes):
    space, half = check_prunes(GroupedDepthwise(), image())
    assert any(u.startswith("grouped.0") for u in space.unprunable)
    assert half.grouped[0].weight.shape == GroupedDepthwise().grouped[0].weight.shape
    dw = half.depthwise[0]
    assert dw.groups == dw.in_channels == dw.out_channels == half.expand[0].out_channels == 6


def test_squeeze_excite(check_prunes):
    space, half = check_prunes(SqueezeExcite(), image())
    assert half.excite.out_features == half.body[0].out_channels == 8
    assert half.squeeze.out_features == 2


def test_flatten_into_linear(check_prunes):
    space, half = check_prunes(FlattenLinear(), image(size=16))
    assert half.fc1.in_features == half.features[2][0].out_channels * 16 < 128


def test_dict_input_and_dict_output(check_prunes):
    inputs = {"image": image(), "depth": image(c=1)}
    space, half = check_prunes(DictInput(), inputs)
    assert half.image[0].out_channels == half.depth[0].out_channels == 4


def test_tuple_input(check_prunes):
    space, half = check_prunes(TupleInput(), (image(), image()))
    assert half.head.fc.in_features == half.left[0].out_channels + half.right[0].out_channels


def test_unknown_op_is_reported_by_name_and_left_unpruned(check_prunes):
    model = WithUnknownOp()
    space, half = check_prunes(model, image())
    assert any(u.startswith("custom ") and "HandWrittenConv" in u for u in space.unprunable)
    names = {g.name for g in space.groups}
    assert "stem.0" not in names  # feeds the unknown layer
    assert "custom" not in names
    assert half.custom.weight.shape == model.custom.weight.shape
    assert half.mid[0].out_channels == 4
