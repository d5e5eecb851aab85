"""Shared check for the topology catalogue: a full genome changes nothing, a half genome
really shrinks the model and keeps the output shapes."""
import pytest


def _outputs(model, inputs):
    import torch

    from pipeline.prune.graph import forward, output_tensors

    with torch.no_grad():
        return output_tensors(forward(model.eval(), inputs))


def _check_prunes(model, inputs, ignore=()):
    import torch

    from pipeline.prune import SearchSpace, apply_genome, count_params_macs

    torch.manual_seed(0)
    model.eval()
    space = SearchSpace.from_model(model, inputs, ignore=ignore)
    assert space.groups, "nothing prunable found"
    before = _outputs(model, inputs)

    same = apply_genome(model, space.full(), inputs)
    for a, b in zip(_outputs(same, inputs), before):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)

    half = apply_genome(model, space.uniform(0.5), inputs)
    assert [t.shape for t in _outputs(half, inputs)] == [t.shape for t in before]
    assert count_params_macs(half, inputs)[0] < count_params_macs(model, inputs)[0]
    # the pruned model is itself a prunable model whose groups have the genome's counts
    assert SearchSpace.from_model(half, inputs).full() == space.uniform(0.5)
    return space, half


@pytest.fixture
def check_prunes():
    return _check_prunes


@pytest.fixture
def outputs():
    return _outputs
