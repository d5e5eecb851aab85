"""Soft-to-hard recovery schedules (SFP, ASRFP, GHFP): start from the unpruned teacher, let
the network adapt while the channels the genome drops fade out, end in the really smaller model.

All three train with the distillation loss from the (untouched) teacher and, at the end of
each epoch, choose the channels to drop by importance on the current weights ("plan") and
multiply their producing parameters by a factor:
- sfp:   factor 0 every epoch; zeroed filters keep training and may win their place back.
- asrfp: factor exp(-5 (e+1) / E): pruned filters decay asymptotically instead of vanishing.
- ghfp:  soft for the first half (factor falls 1 -> 0 along a cosine, plan re-chosen), then
         hard: the plan is frozen, the model is really pruned and trained on by distillation.
Validation always measures the model with the plan's channels zeroed, which is exactly what
the pruned model computes; the best such state and its plan are what `apply_plan` cuts.
The soft phase runs all its epochs (its length is part of the schedule); patience applies to
the hard distillation that follows.
"""
from __future__ import annotations

import copy
import math

from pipeline.recover.distill import distill, make_kd_loss
from pipeline.recover.history import History
from pipeline.recover.loop import LoopSettings, fit

METHODS = ("sfp", "asrfp", "ghfp")


def soft_epochs(method: str, epochs: int) -> int:
    return math.ceil(epochs / 2) if method == "ghfp" else epochs


def decay_factor(method: str, epoch: int, soft_total: int) -> float:
    """Factor applied to the planned channels at the end of soft epoch `epoch` (0-based)."""
    progress = (epoch + 1) / soft_total
    if method == "sfp":
        return 0.0
    if method == "asrfp":
        return math.exp(-5.0 * progress)
    if method == "ghfp":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(method)


def soft_to_hard(teacher, splits, cfg, seed: int, genome: dict, example_inputs, method: str,
                 importance: str = "l1", batch_size: int | None = None, finetune_epochs: int = 0):
    """Run `method` from a copy of `teacher`; return (pruned model, History).

    finetune_epochs: distillation epochs after the cut for sfp/asrfp (ghfp's hard phase is
    the second half of cfg.epochs).
    """
    import torch

    from pipeline.prune import apply_plan, pruning_plan, soft_prune
    from pipeline.recover.compute import placed, to_device

    if method not in METHODS:
        raise ValueError(method)
    soft_total = soft_epochs(method, cfg.epochs)
    model = copy.deepcopy(teacher)
    for p in model.parameters():
        p.requires_grad_(True)
    current = {"plan": pruning_plan(model, genome, example_inputs, importance)}
    if soft_total == 0:  # no training asked for: plain one-shot pruning of the teacher
        return apply_plan(model, current["plan"], example_inputs).eval(), History(method=method)
    plans = []  # per epoch; only the best one goes into the history (they are long lists)

    def on_epoch_end(epoch, m):
        factor = decay_factor(method, epoch, soft_total)
        plan = pruning_plan(m, genome, example_inputs, importance)
        changed = sum(len(set(plan[g]) ^ set(current["plan"][g])) for g in plan) // 2
        current["plan"] = plan
        plans.append(plan)
        soft_prune(m, plan, example_inputs, factor)
        return {"epoch": epoch, "factor": factor, "channels_swapped": changed}

    def zeroed(m):
        c = copy.deepcopy(m)
        soft_prune(c, current["plan"], example_inputs, 0.0)
        return c

    settings = LoopSettings(epochs=soft_total, lr=cfg.lr, batch_size=batch_size, patience=0,
                            desc=method)
    cpu_example = example_inputs
    with torch.random.fork_rng(devices=[]), placed(model, teacher) as device:
        # the epoch-end plans trace the model where it trains: the example goes there too
        if isinstance(example_inputs, torch.Tensor):
            example_inputs = to_device(example_inputs, device)
        torch.manual_seed(seed)
        loss_fn, extra, close, _ = make_kd_loss(model, teacher, cfg,
                                                to_device(splits.x_train[:2], device))
        try:
            model, hist = fit(model, splits, loss_fn, settings, seed, extra_params=extra,
                              on_epoch_end=on_epoch_end, val_model=zeroed, method=method)
        finally:
            close()
    example_inputs = cpu_example
    best_plan = plans[hist.best_epoch]
    pruned = apply_plan(model, best_plan, example_inputs)
    hist.notes["plan"] = best_plan
    hist.notes["soft_epochs"] = soft_total
    hard_epochs = cfg.epochs - soft_total if method == "ghfp" else finetune_epochs
    if hard_epochs > 0:
        tuned, hard = distill(copy.deepcopy(pruned), teacher, splits, cfg, seed + 1,
                              batch_size=batch_size, epochs=hard_epochs)
        hist.notes["hard"] = hard.to_dict()
        hist.train_loss += hard.train_loss
        hist.val_acc += hard.val_acc
        hist.steps += hard.steps
        hist.seconds += hard.seconds
        hist.stopped_early = hard.stopped_early
        if hard.best_val_acc >= hist.best_val_acc:  # else the plain cut validated better
            hist.best_val_acc, hist.best_epoch = hard.best_val_acc, soft_total + hard.best_epoch
            pruned = tuned
    pruned.eval()
    return pruned, hist
