"""Training, evaluation and accuracy recovery.

- `evaluate`, `recalibrate_bn`: the GA's cheap step-1 fitness.
- `train_baseline`: the unpruned model (CE, SGD + Nesterov, cosine, shift augmentation).
- `distill`: logit KD + optional feature mimicry (also the GA's short step-2 fine-tune).
- `recover`: dispatch on RecoverConfig.method: kd | sfp | asrfp | ghfp.

`import pipeline.recover` stays light: torch is imported inside the functions.
"""
from __future__ import annotations

from pipeline.errors import UserError
from pipeline.recover.distill import distill, kd_loss
from pipeline.recover.evaluation import evaluate, recalibrate_bn
from pipeline.recover.history import History
from pipeline.recover.schedules import METHODS as SCHEDULES
from pipeline.recover.schedules import soft_to_hard
from pipeline.recover.train import train_baseline

__all__ = ["History", "distill", "evaluate", "kd_loss", "recalibrate_bn", "recover", "train_baseline"]


def student_genome(student, example_inputs) -> dict:
    """Channel counts per prunable group of a pruned `student` (group names match the teacher's)."""
    from pipeline.prune import SearchSpace

    return SearchSpace.from_model(student, example_inputs).full()


def recover(student, teacher, splits, cfg, seed: int, genome: dict | None = None,
            example_inputs=None, importance: str = "l1", batch_size: int | None = None,
            finetune_epochs: int = 0):
    """Recover accuracy after pruning; returns (model, History).

    kd: distil `teacher` into `student` (the pruned model) in place.
    sfp | asrfp | ghfp: start from a copy of `teacher` and end in a new model with exactly
    `genome`'s channel counts (default: the student's own counts); `student` is not trained.
    finetune_epochs: KD epochs after the cut for sfp/asrfp.
    """
    if cfg.method == "kd":
        if student is None:
            raise ValueError("recover(method='kd') needs the pruned student model")
        return distill(student, teacher, splits, cfg, seed, batch_size=batch_size)
    if cfg.method not in SCHEDULES:
        raise UserError(f"unknown recover.method '{cfg.method}'; use one of kd, {', '.join(SCHEDULES)}")
    if example_inputs is None:
        example_inputs = splits.x_train[:1]
    if genome is None:
        genome = student_genome(student, example_inputs)
    return soft_to_hard(teacher, splits, cfg, seed, genome, example_inputs, cfg.method,
                        importance=importance, batch_size=batch_size, finetune_epochs=finetune_epochs)
