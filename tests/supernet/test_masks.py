"""A masked supernet computes exactly what the really pruned model computes."""
import copy

import numpy as np
import pytest

from pipeline.models import create_model
from pipeline.prune import SearchSpace, channel_order
from pipeline.search.genes import GeneSpace
from pipeline.supernet import Supernet
from pipeline.supernet.masks import ChannelMasks
from pipeline.supernet.train import sample_genome


@pytest.mark.parametrize("name", ["resnet20-tiny", "mobilenetv2-tiny", "mobilenetv3-tiny",
                                  "vgg11-tiny"])
def test_masked_model_equals_the_pruned_one(name):
    import torch

    torch.manual_seed(0)
    model = create_model(name, num_classes=10, in_channels=3).eval()
    x = torch.randn(4, 3, 32, 32)
    example = torch.zeros(1, 3, 32, 32)
    # Train-like BN statistics, so a wrong mask cannot hide behind zero means.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.bias.data.uniform_(-1, 1)
    space = SearchSpace.from_model(model, example)
    genes = GeneSpace.from_space(space, min_keep=0.0)
    order = channel_order(model, example, "l1")
    net = Supernet(copy.deepcopy(model), order)   # hooks would be copied with the model
    masks = ChannelMasks(model, example, order)
    with torch.no_grad():
        full = model(x)
    rng = np.random.default_rng(1)
    for genome in [genes.decode(np.asarray(genes.lower))] + [sample_genome(genes, rng)
                                                              for _ in range(3)]:
        masks.set(genome)
        with torch.no_grad():
            masked = model(x)
            pruned = net.prune(genome, example).eval()(x)
        assert torch.allclose(masked, pruned, atol=1e-4), (name, genome)
    with torch.no_grad():
        masked = model(x)
        masks.set(None)
        assert torch.allclose(model(x), full) and not torch.allclose(masked, full)
    masks.remove()
    assert not model._forward_hooks and all(not m._forward_hooks for m in model.modules())


def test_channel_order_keeps_what_apply_genome_keeps():
    import torch

    from pipeline.prune import apply_genome

    torch.manual_seed(0)
    model = create_model("resnet20-tiny", num_classes=10, in_channels=1).eval()
    example = torch.zeros(1, 1, 8, 8)
    genome = SearchSpace.from_model(model, example).uniform(0.5)
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        a = apply_genome(model, genome, example).eval()(x)
        b = Supernet(model, channel_order(model, example, "l1")).prune(genome, example).eval()(x)
    assert torch.allclose(a, b, atol=1e-6)
