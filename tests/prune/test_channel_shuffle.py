"""A ShuffleNet-style model (channel split + concat + shuffle, three blocks) made torch-pruning
raise ZeroDivisionError while building its graph. The layers it cannot follow are now left
unpruned, named with the reason, and the rest of the model is still pruned."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402


def channel_shuffle(x, groups=2):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        half = c // 2
        self.branch = nn.Sequential(
            nn.Conv2d(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
            nn.Conv2d(half, half, 3, padding=1, groups=half, bias=False), nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU())

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat([a, self.branch(b)], 1))


class TinyShuffleNet(nn.Module):
    def __init__(self, blocks=3, c=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
                                  nn.ReLU())
        self.stage = nn.Sequential(*[ShuffleBlock(c) for _ in range(blocks)])
        self.head = nn.Sequential(nn.Conv2d(c, 32, 1), nn.ReLU())
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.head(self.stage(self.stem(x))).mean((2, 3)))


def test_shuffle_blocks_are_left_unpruned_with_the_reason_and_the_rest_is_pruned():
    from pipeline.prune import SearchSpace, apply_genome, count_params_macs

    torch.manual_seed(0)
    model, x = TinyShuffleNet().eval(), torch.zeros(1, 1, 12, 12)
    space = SearchSpace.from_model(model, x)
    left = "\n".join(space.unprunable)
    # The channels that pass through the shuffles: the stem's and each branch's last conv.
    for layer in ("stem.0", "stage.0.branch.5", "stage.1.branch.5", "stage.2.branch.5"):
        assert layer in left
    assert "torch-pruning cannot follow" in left
    names = {g.name for g in space.groups}
    assert {"stage.0.branch.0", "stage.1.branch.0", "stage.2.branch.0", "head.0"} <= names
    pruned = apply_genome(model, space.uniform(0.5), x)
    assert pruned(torch.randn(2, 1, 12, 12)).shape == (2, 10)
    assert count_params_macs(pruned, x)[0] < count_params_macs(model, x)[0]


def test_the_zero_division_is_recorded_on_the_graph_not_raised():
    from pipeline.prune.graph import build_graph

    dg = build_graph(TinyShuffleNet().eval(), torch.zeros(1, 1, 12, 12))
    reasons = list(dg.edgeprune_untraceable.values())
    assert reasons and all("ZeroDivisionError" in r for r in reasons)


def test_a_model_that_rejects_the_input_is_told_to_check_the_shape():
    from pipeline.errors import UserError
    from pipeline.prune import SearchSpace

    with pytest.raises(UserError, match="check --input-shape"):
        SearchSpace.from_model(TinyShuffleNet().eval(), torch.zeros(1, 3, 12, 12))
