"""One training loop for baseline training, distillation and the soft-pruning schedules.

SGD with Nesterov momentum and a per-step cosine learning rate; light shift augmentation;
validation after each epoch; the best state kept in memory and restored at the end; early
stopping after `patience` epochs without improvement, once half the epochs have run. Every random choice comes from
generators seeded with `seed`, so a run repeats exactly on the same machine.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable

from pipeline.progress import progress
from pipeline.recover.evaluation import evaluate
from pipeline.recover.history import History


@dataclass
class LoopSettings:
    epochs: int
    lr: float
    weight_decay: float = 5e-4
    batch_size: int | None = None  # None: the data's (splits.batch_size, data.batch_size)
    patience: int = 0            # 0: never stop early
    max_steps: int | None = None  # a fixed number of steps instead of epochs (GA fine-tune)
    val_limit: int = 0           # 0: the whole validation split
    shift_px: int | None = None  # random translation of up to this many pixels; 0: off;
                                 # None: about 9% of the image side (3 px at 32x32, 1 at 8x8)
    momentum: float = 0.9
    desc: str = "train"


def random_shift(x, max_px: int, gen):
    """Translate each image by up to max_px pixels (edge-replicating pad, random crop).

    No flips: they turn one digit into another (or into nothing), so they are not label-safe
    for the default data set. Vectorised with one gather, no per-image Python loop.
    """
    import torch
    import torch.nn.functional as F

    if max_px <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (max_px,) * 4, mode="replicate")
    oy = torch.randint(0, 2 * max_px + 1, (n,), generator=gen)
    ox = torch.randint(0, 2 * max_px + 1, (n,), generator=gen)
    rows = (oy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w))[:, None, None, :]
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]


def batches(x, y, batch_size: int, gen):
    """Shuffled mini-batches of tensors; a last batch of one is dropped (BatchNorm needs two)."""
    import torch

    perm = torch.randperm(x.shape[0], generator=gen)
    if hasattr(x, "batches"):  # images read lazily from disk: decoded ahead by worker processes
        if len(perm) % batch_size == 1:
            perm = perm[:-1]
        for i, xb in enumerate(x.batches(perm, batch_size)):
            yield xb, y[perm[i * batch_size:(i + 1) * batch_size]]
        return
    for i in range(0, len(perm), batch_size):
        idx = perm[i:i + batch_size]
        if len(idx) < 2:
            break
        yield x[idx], y[idx]


def fit(model, splits, loss_fn: Callable, settings: LoopSettings, seed: int, *,
        extra_params=(), on_epoch_end: Callable | None = None,
        val_model: Callable | None = None, method: str = "") -> tuple[object, History]:
    """Train `model` in place with `loss_fn(model, x, y) -> loss`; return (model, history).

    extra_params: more trainable tensors (feature projections) optimised alongside.
    on_epoch_end(epoch, model): runs before validation (soft pruning zeroes filters there);
    it may return a dict recorded in history.notes["epochs"].
    val_model(model) -> module to validate (e.g. a copy with pruned channels zeroed); the
    checkpoint kept is the *model's* state at the best validation.
    With settings.max_steps the loop runs that many steps, validates once and keeps the end state.
    Runs on the current compute device (recover/compute.py) and returns the model where it was;
    batches and augmentation are drawn on the CPU, so every device sees the same ones.
    """
    from pipeline.recover.compute import placed

    with placed(model) as device:
        return _fit(model, splits, loss_fn, settings, seed, device, extra_params, on_epoch_end,
                    val_model, method)


def _fit(model, splits, loss_fn, settings, seed, device, extra_params, on_epoch_end, val_model,
         method):
    import torch

    from pipeline.recover.compute import autocast, grad_scaler, to_device

    s = settings
    scaler = grad_scaler(device)
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad] + list(extra_params)
    opt = torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, nesterov=s.momentum > 0,
                          weight_decay=s.weight_decay)
    n_train = splits.x_train.shape[0]
    batch_size = s.batch_size or splits.batch_size
    steps_per_epoch = max(1, n_train // batch_size + (1 if n_train % batch_size > 1 else 0))
    total_steps = s.max_steps if s.max_steps else max(1, s.epochs * steps_per_epoch)
    epochs = math.ceil(total_steps / steps_per_epoch) if s.max_steps else s.epochs
    x_val, y_val = splits.x_val, splits.y_val
    if s.val_limit:
        x_val, y_val = x_val[:s.val_limit], y_val[:s.val_limit]

    shift_px = s.shift_px if s.shift_px is not None else max(1, round(0.09 * splits.x_train.shape[-1]))
    hist = History(method=method)
    best_state, step, start = None, 0, time.perf_counter()
    bar = progress(range(epochs), desc=s.desc, unit="epoch") if not s.max_steps else range(epochs)
    for epoch in bar:
        model.train()
        loss_sum, loss_n = 0.0, 0
        for xb, yb in batches(splits.x_train, splits.y_train, batch_size, gen):
            if step >= total_steps:
                break
            for group in opt.param_groups:  # cosine from lr to 0 over the whole run
                group["lr"] = 0.5 * s.lr * (1 + math.cos(math.pi * step / total_steps))
            xb = to_device(random_shift(xb, shift_px, gen), device)
            with autocast(device):
                loss = loss_fn(model, xb, to_device(yb, device))
            opt.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                opt.step()
            else:  # float16 gradients would underflow without loss scaling
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            step += 1
            loss_sum += float(loss.detach()) * len(yb)
            loss_n += len(yb)
        note = on_epoch_end(epoch, model) if on_epoch_end else None
        if note:
            hist.notes.setdefault("epochs", []).append(note)
        hist.train_loss.append(loss_sum / max(1, loss_n))
        if s.max_steps and step < total_steps:
            continue  # a short fine-tune validates only at its end
        acc = evaluate(val_model(model) if val_model else model, x_val, y_val)
        hist.val_acc.append(acc)
        # ties go to the later epoch: it has had more of the low learning rate at the end
        if acc >= hist.best_val_acc or hist.best_epoch < 0:
            hist.best_val_acc, hist.best_epoch = acc, epoch
            if not s.max_steps:
                best_state = copy.deepcopy(model.state_dict())
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{hist.train_loss[-1]:.3f}", val=f"{acc:.4f}",
                            best=f"{hist.best_val_acc:.4f}")
        # With a cosine schedule the low-LR epochs at the end do the converging, and the
        # high-LR epochs before them are noisy: patience only counts in the second half.
        if s.patience and epoch + 1 >= s.epochs // 2 and epoch - hist.best_epoch >= s.patience:
            hist.stopped_early = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    hist.steps, hist.seconds = step, time.perf_counter() - start
    return model, hist
