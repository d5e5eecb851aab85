"""SearchSpace rules, apply_genome purity, plans, soft pruning and apply_plan."""
import copy

import pytest

torch = pytest.importorskip("torch")

from pipeline.errors import UserError  # noqa: E402
from pipeline.models import create_model  # noqa: E402
from pipeline.prune import (  # noqa: E402
    SearchSpace, apply_genome, apply_plan, count_params_macs, pruning_plan, soft_prune,
)

X = torch.randn(1, 1, 32, 32)


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return create_model("resnet20-tiny", num_classes=10, in_channels=1).eval()


@pytest.fixture(scope="module")
def space(resnet):
    return SearchSpace.from_model(resnet, X, round_to=2)


def test_groups_follow_the_residual_coupling_and_skip_the_classifier(space):
    names = [g.name for g in space.groups]
    assert names[0] == "conv1" and "fc" not in names
    stem = space.group("conv1")
    assert {"conv1", "layer1.0.conv2"} <= set(stem.layers)  # tied through the residual add
    assert all("fc" not in g.layers or g.name == "layer3.0.conv2" for g in space.groups)


def test_choices_uniform_and_validate(space):
    assert space.choices("layer3.0.conv2") == [2, 4, 6, 8, 10, 12, 14, 16]
    genome = space.uniform(0.5)
    assert genome["layer3.0.conv2"] == 8 and genome["conv1"] == 2
    assert space.uniform(1.0) == space.full()
    assert min(space.uniform(0.01).values()) == 2  # never below round_to
    space.validate(genome)
    for bad in ({"nope": 2}, {"conv1": 3}, {"conv1": 0}, {"conv1": 2.0}):
        with pytest.raises(UserError):
            space.validate(bad)
    with pytest.raises(UserError):
        space.uniform(0)


def test_round_to_larger_than_a_group_keeps_it_full(resnet):
    space = SearchSpace.from_model(resnet, X, round_to=8)
    assert space.choices("conv1") == [4]


def test_json_round_trip(space):
    import json

    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space


def test_ignore_skips_every_group_touching_the_layer(resnet):
    space = SearchSpace.from_model(resnet, X, ignore=("layer2",))
    assert all(not any(layer.startswith("layer2.") for layer in g.layers) for g in space.groups)
    with pytest.raises(UserError, match="no layer 'layer9'"):
        SearchSpace.from_model(resnet, X, ignore=("layer9",))


def test_apply_genome_is_pure_and_deterministic(resnet, space):
    state = copy.deepcopy(resnet.state_dict())
    resnet.train()
    genome = space.uniform(0.5)
    a = apply_genome(resnet, genome, X)
    b = apply_genome(resnet, genome, X)
    assert resnet.training and a.training  # mode is kept on both sides
    resnet.eval()
    for key, value in resnet.state_dict().items():
        assert torch.equal(value, state[key])
    assert {k: v.shape for k, v in a.state_dict().items()} == {k: v.shape for k, v in b.state_dict().items()}
    assert count_params_macs(a, X)[0] < count_params_macs(resnet, X)[0]
    assert SearchSpace.from_model(a, X).full() == {**space.full(), **genome}


def test_missing_groups_keep_all_channels(resnet, space):
    pruned = apply_genome(resnet, {"layer2.0.conv1": 2}, X)
    assert pruned.layer2[0].conv1.out_channels == 2
    assert pruned.conv1.out_channels == resnet.conv1.out_channels


def test_genome_errors_are_user_errors(resnet):
    with pytest.raises(UserError, match="unknown group 'fc'"):
        apply_genome(resnet, {"fc": 5}, X)
    with pytest.raises(UserError, match="1..4"):
        apply_genome(resnet, {"conv1": 5}, X)


def test_plan_then_apply_plan_equals_apply_genome(resnet, space):
    genome = space.uniform(0.5)
    plan = pruning_plan(resnet, genome, X)
    assert {n: len(idx) for n, idx in plan.items()} == {n: space.full()[n] - k for n, k in genome.items()}
    by_plan, by_genome = apply_plan(resnet, plan, X), apply_genome(resnet, genome, X)
    for (k, v), (_, w) in zip(by_plan.state_dict().items(), by_genome.state_dict().items()):
        assert torch.equal(v, w), k


def test_apply_plan_removes_exactly_the_planned_channels(resnet):
    pruned = apply_plan(resnet, {"layer2.0.conv1": [1, 6]}, X)
    keep = [0, 2, 3, 4, 5, 7]
    assert torch.equal(pruned.layer2[0].conv1.weight, resnet.layer2[0].conv1.weight[keep])
    assert torch.equal(pruned.layer2[0].conv2.weight, resnet.layer2[0].conv2.weight[:, keep])
    with pytest.raises(UserError):
        apply_plan(resnet, {"layer2.0.conv1": list(range(8))}, X)


@pytest.mark.parametrize("factor", [0.0, 0.5])
def test_soft_prune_scales_only_the_producers(resnet, factor):
    model = copy.deepcopy(resnet).train()
    soft_prune(model, {"conv1": [1]}, X, factor)
    assert model.training
    for conv, bn in ((model.conv1, model.bn1), (model.layer1[0].conv2, model.layer1[0].bn2)):
        original = dict(resnet.named_modules())
        name = [n for n, m in model.named_modules() if m is conv][0]
        assert torch.equal(conv.weight[1], original[name].weight[1] * factor)
        assert torch.equal(conv.weight[0], original[name].weight[0])
        bn_before = original[name.replace("conv", "bn")].weight[1].item()
        assert bn.weight[1].item() == pytest.approx(bn_before * factor)
    # consumers' input weights are not producers: untouched
    assert torch.equal(model.layer1[0].conv1.weight, resnet.layer1[0].conv1.weight)


def test_zeroed_channels_match_removed_channels(resnet):
    plan = {"conv1": [0], "layer2.0.conv1": [3, 4], "layer3.0.conv2": [15]}
    zeroed = copy.deepcopy(resnet)
    soft_prune(zeroed, plan, X, 0.0)
    with torch.no_grad():
        torch.testing.assert_close(apply_plan(resnet, plan, X)(X), zeroed(X), rtol=1e-4, atol=1e-5)
