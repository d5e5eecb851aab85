"""The blend as an importance: one criterion at weight 1 prunes exactly what it prunes alone."""
import pytest

from pipeline.criteria import Blend
from pipeline.errors import UserError

NAMES = ("l1", "l2", "fpgm", "bn", "taylor")


@pytest.mark.parametrize("normalise", ["rank", "minmax"])
@pytest.mark.parametrize("criterion", NAMES)
def test_a_one_hot_blend_prunes_exactly_the_channels_its_criterion_prunes(trained, digits8, batches,
                                                                          criterion, normalise):
    import torch

    from pipeline.prune import SearchSpace, pruning_plan

    example = torch.zeros(digits8.input_shape)
    genome = SearchSpace.from_model(trained, example).uniform(0.5)
    blend = Blend(NAMES, tuple(float(n == criterion) for n in NAMES), normalise)
    alone = pruning_plan(trained, genome, example, importance=criterion, batches=batches)
    assert pruning_plan(trained, genome, example, importance=blend, batches=batches) == alone
    assert any(alone.values())


def test_a_real_blend_prunes_differently_and_apply_genome_accepts_it(trained, digits8, batches):
    import torch

    from pipeline.prune import SearchSpace, apply_genome, pruning_plan

    example = torch.zeros(digits8.input_shape)
    space = SearchSpace.from_model(trained, example)
    genome = space.uniform(0.5)
    blend = Blend(("fpgm", "taylor"), (0.5, 0.5))
    plan = pruning_plan(trained, genome, example, importance=blend, batches=batches)
    singles = [pruning_plan(trained, genome, example, importance=n, batches=batches)
               for n in ("fpgm", "taylor")]
    assert all(plan != s for s in singles)
    pruned = apply_genome(trained, genome, example, importance=blend, batches=batches)
    assert SearchSpace.from_model(pruned, example).full() == genome
    assert pruned(digits8.x_val[:4]).shape == (4, 10)


def test_blend_round_trips_through_json_and_rejects_bad_weights():
    blend = Blend(("l1", "bn"), (0.25, 0.75), "minmax")
    assert Blend.from_dict(blend.to_dict()) == blend
    with pytest.raises(UserError, match="one weight per criterion"):
        Blend(("l1", "bn"), (1.0,))
    with pytest.raises(UserError, match="at least one > 0"):
        Blend(("l1", "bn"), (0.0, 0.0))
    with pytest.raises(UserError, match="unknown importance criterion 'l3'"):
        Blend(("l1", "l3"), (1.0, 1.0))
    with pytest.raises(UserError, match="lists 'criteria' and 'weights'"):
        Blend.from_dict({"criteria": "l1"})
