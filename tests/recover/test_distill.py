import copy

import pytest

torch = pytest.importorskip("torch")

from pipeline.config import RecoverConfig  # noqa: E402
from pipeline.recover import distill, evaluate, kd_loss, recalibrate_bn  # noqa: E402
from pipeline.recover.features import build_projections, mimicry_layers  # noqa: E402

from .conftest import same_weights  # noqa: E402


def pruned_student(teacher_model, x, keep=0.5):
    from pipeline.prune import SearchSpace, apply_genome

    space = SearchSpace.from_model(teacher_model, x[:1])
    return apply_genome(teacher_model, space.uniform(keep), x[:1]), space


def test_kd_loss_is_cross_entropy_at_alpha_zero_and_zero_when_matching_the_teacher():
    import torch.nn.functional as F

    logits = torch.randn(6, 10)
    y = torch.randint(0, 10, (6,))
    assert torch.allclose(kd_loss(logits, torch.randn(6, 10), y, 4.0, 0.0), F.cross_entropy(logits, y))
    assert kd_loss(logits, logits.clone(), y, 4.0, 1.0).abs() < 1e-6


def test_kd_repairs_a_damaged_student(digits8, teacher):
    model, _ = teacher
    student = copy.deepcopy(model)
    with torch.no_grad():
        torch.manual_seed(1)
        for p in student.parameters():
            p.add_(0.6 * p.std() * torch.randn_like(p))
    recalibrate_bn(student, [digits8.x_train[:256]])
    damaged = evaluate(student, digits8.x_val, digits8.y_val)
    teacher_acc = evaluate(model, digits8.x_val, digits8.y_val)
    cfg = RecoverConfig(epochs=3, lr=0.02, patience=0)
    student, hist = distill(student, model, digits8, cfg, seed=0, batch_size=32)
    assert damaged < teacher_acc - 0.15  # the damage is real
    assert hist.best_val_acc > damaged + 0.1
    assert evaluate(student, digits8.x_val, digits8.y_val) == pytest.approx(hist.best_val_acc)


def test_mimicry_taps_one_output_per_resolution(teacher, digits8):
    names = mimicry_layers(teacher[0], digits8.x_train[:2])
    # resnet20-tiny at 8x8: stages at 8x8, 4x4, 2x2, then the pooled 1x1 embedding
    assert names == ["layer1", "layer2", "layer3", "pool"]


def test_feature_mimicry_with_width_mismatch(digits8, teacher):
    model, _ = teacher
    student, _ = pruned_student(model, digits8.x_train)
    names = mimicry_layers(model, digits8.x_train[:2])
    proj = build_projections(student, model, names, digits8.x_train[:2])
    assert any(isinstance(p, torch.nn.Conv2d) for p in proj.values())  # widths really differ
    before = evaluate(student, digits8.x_val, digits8.y_val)
    cfg = RecoverConfig(epochs=2, lr=0.02, feature_weight=1.0, patience=0)
    teacher_before = copy.deepcopy(model)
    student, hist = distill(student, model, digits8, cfg, seed=0, batch_size=32)
    assert hist.notes["mimicry_layers"] == names
    assert all(loss == loss for loss in hist.train_loss)  # no NaN
    assert hist.best_val_acc > before
    assert same_weights(model, teacher_before)  # the teacher is never trained
    assert not any(m._forward_hooks for m in student.modules())  # hooks removed


def test_distill_same_seed_same_weights(digits8, teacher):
    model, _ = teacher
    base, _ = pruned_student(model, digits8.x_train, keep=0.75)
    cfg = RecoverConfig(epochs=1, feature_weight=0.5)
    a, _ = distill(copy.deepcopy(base), model, digits8, cfg, seed=7, max_steps=6)
    b, _ = distill(copy.deepcopy(base), model, digits8, cfg, seed=7, max_steps=6)
    assert same_weights(a, b)


def test_short_fine_tune_takes_exactly_max_steps(digits8, teacher):
    model, _ = teacher
    student, _ = pruned_student(model, digits8.x_train)
    cfg = RecoverConfig(epochs=50, patience=1)
    student, hist = distill(student, model, digits8, cfg, seed=0, max_steps=25, val_limit=100,
                            batch_size=32)  # 600 images: 19 steps per epoch, so two epochs
    assert hist.steps == 25 and hist.epochs_run == 1 and len(hist.train_loss) == 2
    assert hist.val_acc[0] == pytest.approx(evaluate(student, digits8.x_val[:100], digits8.y_val[:100]))
