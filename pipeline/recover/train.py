"""Baseline training: the unpruned model every later step compares with and distils from."""
from __future__ import annotations

from pipeline.recover.loop import LoopSettings, fit


def train_baseline(model, splits, cfg, seed: int, batch_size: int | None = None, patience: int = 0,
                   label_smoothing: float = 0.0):
    """Train `model` (in place) on splits.x_train with cross-entropy; keep the best-on-val state.

    cfg: a TrainConfig (epochs, lr, weight_decay). patience=0 runs every epoch: the cosine
    schedule does its best work in the last epochs, so stopping early rarely pays here.
    Returns (model in eval mode, History).
    """
    import torch
    import torch.nn.functional as F

    def loss_fn(m, x, y):
        return F.cross_entropy(m(x), y, label_smoothing=label_smoothing)

    settings = LoopSettings(epochs=cfg.epochs, lr=cfg.lr, weight_decay=cfg.weight_decay,
                            batch_size=batch_size, patience=patience, desc="baseline")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fit(model, splits, loss_fn, settings, seed, method="baseline")
