"""Accuracy and BatchNorm re-calibration: the cheap steps the GA runs hundreds of times."""
from __future__ import annotations


def evaluate(model, x, y, batch_size: int | None = None) -> float:
    """Top-1 accuracy in [0, 1] of `model` on tensors x (N,C,H,W) and y (N,), eval mode, no grad.
    `batch_size` None: bounded by pixels (pipeline.batching), so large images fit in memory.

    The model's train/eval mode is restored afterwards, so a training loop can call this.
    """
    import torch

    from pipeline.batching import inference_batch
    from pipeline.recover.compute import placed, to_device

    n = int(y.shape[0])
    if n == 0:
        return 0.0
    batch_size = batch_size or inference_batch(x)
    was_training = model.training
    model.eval()
    correct = 0
    with placed(model) as device, torch.inference_mode():
        for i in range(0, n, batch_size):
            pred = model(to_device(x[i:i + batch_size], device)).argmax(dim=1).cpu()
            correct += int((pred == y[i:i + batch_size]).sum())
    model.train(was_training)
    return correct / n


def recalibrate_bn(model, x_batches):
    """Reset every BatchNorm's running statistics and re-estimate them on `x_batches`.

    After pruning, the surviving channels' statistics no longer match their inputs; a few
    forward passes with a cumulative average (momentum=None) fix most of the damage without
    touching any weight. `x_batches`: input tensors or (x, y) pairs, or one N,C,H,W tensor.
    Returns the model, in eval mode.
    """
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    from pipeline.recover.compute import placed, to_device

    if isinstance(x_batches, torch.Tensor):
        x_batches = [x_batches]  # one batch, not an iterable of single images
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    model.eval()  # dropout and the like stay off; only BN layers collect statistics
    saved_momentum = []
    for bn in bns:
        bn.reset_running_stats()
        saved_momentum.append(bn.momentum)
        bn.momentum = None
        bn.train()
    try:
        with placed(model) as device, torch.no_grad():
            for batch in x_batches:
                x = batch[0] if isinstance(batch, (tuple, list)) else batch
                model(to_device(x, device))
    finally:
        for bn, momentum in zip(bns, saved_momentum):
            bn.momentum = momentum
        model.eval()
    return model
