"""The accuracy side of an evaluation as plain functions of (shared context, genome), so an
executor (pipeline/executors/) can run them here or as Ray tasks in other processes.

Each is deterministic in its inputs: fixed calibration batches, a fixed seed before the short
fine-tune; the same genome gives the same numbers wherever it runs.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AccuracyContext:
    """Everything a task needs, sent once per generation (Ray puts it in its object store)."""
    base_model: object
    example: object                 # a zero input of the model's shape
    calib_x: list                   # fixed BN re-calibration batches
    calib_batches: list             # (x, y) pairs for data-driven importance criteria
    val_x: object
    val_y: object
    importance: object              # a criterion name or a factory (a Blend)
    splits: object                  # step 2 distils on the training split
    recover_cfg: object
    finetune_steps: int
    seed: int
    keep_model: bool                # step 1 returns the pruned model (the device measures it)
    estimate_steps: int = 0         # step 1's distillation steps after BN re-calibration
    estimate_lr: float = 0.05
    supernet: object = None         # a pipeline.supernet.Supernet: pruned instead of base_model


def prune(ctx: AccuracyContext, channels: dict):
    from pipeline.prune import apply_genome

    if ctx.supernet is not None:
        return ctx.supernet.prune(channels, ctx.example)
    return apply_genome(ctx.base_model, channels, ctx.example, importance=ctx.importance,
                        batches=ctx.calib_batches)


def step1(ctx: AccuracyContext, channels: dict) -> tuple:
    """Prune, re-calibrate BN, evaluate on the validation subset; then (estimate_steps > 0) a
    few distillation steps and evaluate again.

    Returns (pruned model or None, params, macs, BN-only accuracy, quick estimate or None).
    """
    from pipeline.prune import count_params_macs
    from pipeline.recover import evaluate, recalibrate_bn

    model = prune(ctx, channels)
    params, macs = count_params_macs(model, ctx.example)
    recalibrate_bn(model, ctx.calib_x)
    acc = evaluate(model, ctx.val_x, ctx.val_y)
    quick = quick_estimate(ctx, model) if ctx.estimate_steps > 0 else None
    return (model if ctx.keep_model else None), int(params), int(macs), float(acc), quick


def quick_estimate(ctx: AccuracyContext, model) -> float:
    """A few KD steps at a high learning rate (cosine to 0), then the validation subset.

    Trains `model` in place: the device measures its architecture, not its weights.
    """
    import dataclasses

    import torch

    from pipeline.recover import distill

    torch.manual_seed(ctx.seed)
    rcfg = dataclasses.replace(ctx.recover_cfg, lr=ctx.estimate_lr, feature_weight=0.0)
    _, history = distill(model, ctx.base_model, ctx.splits, rcfg, ctx.seed,
                         max_steps=ctx.estimate_steps, val_limit=len(ctx.val_x))
    return float(history.best_val_acc)


def step2(ctx: AccuracyContext, channels: dict) -> float:
    """A short distillation from the unpruned model; accuracy on the whole validation split."""
    import torch

    from pipeline.recover import distill, recalibrate_bn

    torch.manual_seed(ctx.seed)
    model = prune(ctx, channels)
    recalibrate_bn(model, ctx.calib_x)
    _, history = distill(model, ctx.base_model, ctx.splits, ctx.recover_cfg, ctx.seed,
                         max_steps=ctx.finetune_steps)
    return float(history.best_val_acc)
