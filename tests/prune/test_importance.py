"""Each criterion removes the channel it should, on a model built so that they disagree."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from pipeline.errors import UserError  # noqa: E402
from pipeline.prune import get_importance, pruning_plan, register_importance  # noqa: E402


class Probe(nn.Module):
    """conv (4 filters of 4 weights) -> BN -> ReLU -> pool -> Linear: one prunable group."""

    def __init__(self, filters, gammas=(1.0, 1.0, 1.0, 1.0), betas=(0.0, 0.0, 0.0, 0.0)):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 2, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 3, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor(filters, dtype=torch.float32).view(4, 1, 2, 2))
            self.bn.weight.copy_(torch.tensor(gammas))
            self.bn.bias.copy_(torch.tensor(betas))
            self.fc.weight.copy_(torch.tensor([[1.0] * 4] * 3))

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


X = torch.randn(1, 1, 4, 4)


def removed(model, importance, batches=None):
    return pruning_plan(model, {"conv": 3}, X, importance=importance, batches=batches)["conv"]


def test_l1_and_l2_disagree_as_they_should():
    # filter 0: l1 4, l2 2; filter 1: l1 3, l2 3; filters 2-3 large
    model = Probe([[1, 1, 1, 1], [3, 0, 0, 0], [5, 5, 5, 5], [6, 6, 6, 6]])
    assert removed(model, "l1") == [1]
    assert removed(model, "l2") == [0]


def test_bn_scale_follows_gamma_not_weights():
    model = Probe([[1, 1, 1, 1], [2, 2, 2, 2], [5, 5, 5, 5], [6, 6, 6, 6]], gammas=(1, 1, 0.01, 1))
    assert removed(model, "bn") == [2]
    assert removed(model, "l1") == [0]


def test_fpgm_removes_the_most_replaceable_filter():
    # filter 3 sits at the centre of the others: the geometric median, hence redundant
    model = Probe([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0.5, 0.5, 0.5, 0]])
    assert removed(model, "fpgm") == [3]
    assert removed(model, "l1") == [0]


def test_taylor_uses_gradients():
    # channel 1 has the largest weights but a BN shift that ReLU always cuts: it never
    # reaches the loss, so its gradients (and Taylor score) are zero
    model = Probe([[1, 1, 1, 1], [3, 3, 3, 3], [1, 1, 1, 1], [1, 1, 1, 1]], betas=(0, -100, 0, 0))
    batches = [(torch.randn(8, 1, 4, 4), torch.randint(0, 3, (8,))) for _ in range(2)]
    assert removed(model, "taylor", batches) == [1]
    assert removed(model, "l1") != [1]
    assert all(p.grad is None for p in model.parameters())  # the caller's model is untouched


def test_taylor_without_batches_is_a_user_error():
    with pytest.raises(UserError, match="taylor' needs a few batches"):
        removed(Probe([[1, 1, 1, 1]] * 4), "taylor")


def test_unknown_criterion_is_a_user_error():
    with pytest.raises(UserError, match="did you mean 'fpgm'"):
        get_importance("fpmg")


def test_registry_is_extensible():
    @register_importance("test-prefer-high-index")
    def prefer_high_index(model, batches, forward):
        return lambda group: torch.arange(len(group[0].idxs), dtype=torch.float32)

    assert removed(Probe([[1, 1, 1, 1]] * 4), "test-prefer-high-index") == [0]
