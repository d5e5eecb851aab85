"""Knowledge distillation from the unpruned teacher: logit KD plus optional feature mimicry."""
from __future__ import annotations

from pipeline.recover.loop import LoopSettings, fit


def kd_loss(student_logits, teacher_logits, y, temperature: float, alpha: float):
    """alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, y) (Hinton et al.).

    T^2 keeps the soft term's gradient scale independent of the temperature.
    """
    import torch.nn.functional as F

    t = temperature
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
                    reduction="batchmean", log_target=True) * (t * t)
    hard = F.cross_entropy(student_logits, y)
    return alpha * soft + (1 - alpha) * hard


def make_kd_loss(student, teacher, cfg, example_input):
    """A loss_fn(model, x, y) for the training loop, plus its extra parameters and a cleanup.

    The teacher runs in eval mode without gradients; with cfg.feature_weight > 0, hooks tap
    matching layers (see features.py) and their projections train with the student.
    """
    import torch

    from pipeline.recover.features import FeatureTaps, build_projections, mimicry_layers, mimicry_loss

    teacher.eval()  # its BatchNorm must use running statistics; its weights are never stepped
    names, proj, taps = [], None, None
    if cfg.feature_weight > 0:
        names = mimicry_layers(teacher, example_input)
        proj = build_projections(student, teacher, names, example_input)
        proj.to(example_input.device)  # initialised on the CPU (same seed, same weights)
        taps = (FeatureTaps(student, names), FeatureTaps(teacher, names))

    def loss_fn(model, x, y):
        with torch.no_grad():
            t_logits = teacher(x)
        s_logits = model(x)
        loss = kd_loss(s_logits, t_logits, y, cfg.temperature, cfg.alpha)
        if taps:
            loss = loss + cfg.feature_weight * mimicry_loss(proj, taps[0], taps[1], names)
        return loss

    def close():
        for t in taps or ():
            t.close()

    extra = list(proj.parameters()) if proj is not None else []
    return loss_fn, extra, close, names


def distill(student, teacher, splits, cfg, seed: int, max_steps: int | None = None,
            val_limit: int = 0, batch_size: int | None = None, epochs: int | None = None):
    """Fine-tune `student` (in place) by distillation from `teacher`; keep the best-on-val state.

    cfg: a RecoverConfig (epochs, lr, temperature, alpha, feature_weight, patience).
    max_steps: a short fine-tune of that many steps (the GA's step-2 fitness): no epochs, no
    early stopping, one validation at the end on the first `val_limit` images (0: all).
    Returns (student in eval mode, History); history.notes["mimicry_layers"] names the taps.
    """
    import torch

    from pipeline.recover.compute import placed, to_device

    settings = LoopSettings(epochs=cfg.epochs if epochs is None else epochs, lr=cfg.lr,
                            batch_size=batch_size, patience=0 if max_steps else cfg.patience,
                            max_steps=max_steps, val_limit=val_limit, desc="distill")
    # The teacher runs inside the loss, so it goes to the compute device with the student.
    with torch.random.fork_rng(devices=[]), placed(student, teacher) as device:
        torch.manual_seed(seed)  # projections' initial weights
        loss_fn, extra, close, names = make_kd_loss(student, teacher, cfg,
                                                    to_device(splits.x_train[:2], device))
        try:
            student, hist = fit(student, splits, loss_fn, settings, seed, extra_params=extra,
                                method="kd")
        finally:
            close()
    if names:
        hist.notes["mimicry_layers"] = names
    return student, hist
