"""Train one set of weights to be good at every width the search can pick (a "supernet").

Why: the search scores hundreds of architectures and can afford seconds each. Pruning the
trained model and re-calibrating BatchNorm scores deeply pruned ones at chance (10% on
digits for architectures that recover to 98%), so the search cannot tell good fast
architectures from bad ones. After a few epochs of the sandwich rule (Yu & Huang, Universally
Slimmable Networks, 2019; AutoSlim; BigNAS) every sub-network taken by the channel order
already works, and BN re-calibration of the pruned sub-network ranks architectures like
recovery does (bench/estimate_rank.py measures it).

Each step distils from the unpruned teacher into the widest sub-network, the narrowest the
search allows and `random_subnets` drawn between them, summing their losses.
"""
from __future__ import annotations

import numpy as np

from pipeline.batching import calibration_slices


def sample_genome(genes, rng: np.random.Generator) -> dict[str, int]:
    """A genome at a random overall keep level (uniform), each group jittered around it."""
    level = rng.uniform(0.0, 1.0)
    x = []
    for lo, hi in zip(genes.lower, genes.upper):
        jitter = np.clip(level * rng.lognormal(0.0, 0.3), 0.0, 1.0)
        x.append(int(round(lo + jitter * (hi - lo))))
    return genes.decode(np.asarray(x))


def train_supernet(base_model, genes, order: dict[str, list[int]], splits, recover_cfg,
                   epochs: int, lr: float, seed: int, random_subnets: int = 2):
    """A copy of `base_model` trained so that every genome of `genes` (pruned in `order`)
    works after BN re-calibration. Returns (model in eval mode, History)."""
    import copy

    import torch

    from pipeline.recover.compute import placed
    from pipeline.recover.distill import kd_loss
    from pipeline.recover.loop import LoopSettings, fit
    from pipeline.supernet.masks import ChannelMasks

    teacher = base_model.eval()
    student = copy.deepcopy(base_model)
    example = torch.zeros(splits.input_shape)
    masks = ChannelMasks(student, example, order)
    rng = np.random.default_rng(seed)
    widest = genes.decode(np.asarray(genes.upper))
    narrowest = genes.decode(np.asarray(genes.lower))
    t, alpha = recover_cfg.temperature, recover_cfg.alpha

    def sandwich_loss(model, x, y):
        with torch.no_grad():
            t_logits = teacher(x)
        subnets = [widest, narrowest] + [sample_genome(genes, rng) for _ in range(random_subnets)]
        loss = 0.0
        for genome in subnets:
            masks.set(genome)
            loss = loss + kd_loss(model(x), t_logits, y, t, alpha)
        masks.set(None)
        return loss / len(subnets)

    calib = calibration_slices(splits.x_train)

    def widest_model(model):
        # The running BN statistics mix every width trained, so no width is right with them:
        # validate the widest on a copy with its own statistics, as step 1 scores every genome.
        from pipeline.recover.evaluation import recalibrate_bn

        masks.set(None)
        return recalibrate_bn(copy.deepcopy(model), calib)

    settings = LoopSettings(epochs=epochs, lr=lr, desc="supernet")
    try:
        # The teacher runs inside the loss: it goes to the compute device with the student.
        with torch.random.fork_rng(devices=[]), placed(student, teacher):
            torch.manual_seed(seed)
            student, history = fit(student, splits, sandwich_loss, settings, seed,
                                   val_model=widest_model, method="supernet")
    finally:
        masks.remove()
    return student.eval(), history
