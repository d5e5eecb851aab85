"""The sandwich-rule training: narrow sub-networks cut from the supernet beat the same cuts of
the trained model (both BN re-calibrated, as step 1 scores them); the teacher is untouched."""
import numpy as np

from pipeline.config import DataConfig, RecoverConfig
from pipeline.data import load_data
from pipeline.models import create_model
from pipeline.prune import SearchSpace, channel_order
from pipeline.recover import evaluate, recalibrate_bn
from pipeline.search.genes import GeneSpace
from pipeline.supernet import Supernet
from pipeline.supernet.train import train_supernet
from tests.export.conftest import train_quickly


def test_narrow_cuts_of_the_supernet_beat_cuts_of_the_trained_model():
    import torch

    splits = load_data(DataConfig(name="digits", image_size=8), seed=0)
    torch.manual_seed(0)
    base = train_quickly(create_model("resnet20-tiny", num_classes=10, in_channels=1), splits,
                         epochs=10)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    example = torch.zeros(splits.input_shape)
    space = SearchSpace.from_model(base, example)
    genes = GeneSpace.from_space(space, min_keep=0.0)
    order = channel_order(base, example, "l1")
    weights, history = train_supernet(base, genes, order, splits, RecoverConfig(), epochs=4,
                                      lr=0.05, seed=0)
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())
    assert not any(m._forward_hooks for m in weights.modules())   # the masks are gone
    assert history.best_val_acc > 0.8   # the widest, validated with its own BN statistics

    calib = [splits.x_train[i:i + 64] for i in range(0, 256, 64)]
    gains = []
    # Keep 0.25 leaves this tiny model 1-4 channels a layer: both cuts sit near chance there
    # (0.10-0.26 on one thread, seeds 0-2), so the gain at 0.25 was CPU noise. At 0.4 and 0.5
    # the supernet's cuts gained 0.13-0.33 in every seed.
    for keep in (0.4, 0.5):
        genome = space.uniform(keep)
        cut_base = recalibrate_bn(Supernet(base, order).prune(genome, example), calib)
        cut_super = recalibrate_bn(Supernet(weights, order).prune(genome, example), calib)
        gains.append(evaluate(cut_super, splits.x_val, splits.y_val)
                     - evaluate(cut_base, splits.x_val, splits.y_val))
    assert min(gains) > 0.05 and np.mean(gains) > 0.1, gains
