import copy

import pytest

torch = pytest.importorskip("torch")

from pipeline.config import RecoverConfig  # noqa: E402
from pipeline.recover import evaluate, recover  # noqa: E402
from pipeline.recover.schedules import decay_factor, soft_epochs  # noqa: E402

from .conftest import same_weights  # noqa: E402


def genome_of(model, x):
    from pipeline.prune import SearchSpace

    return SearchSpace.from_model(model, x[:1]).full()


def uneven_genome(model, x):
    full = genome_of(model, x)
    # a different fraction per group, as the GA would choose
    return {name: max(1, n - 1 - i % 3) for i, (name, n) in enumerate(full.items())}


@pytest.mark.parametrize("method", ["sfp", "asrfp", "ghfp"])
def test_schedule_ends_with_the_genome_channel_counts(digits8, teacher, method):
    model, _ = teacher
    before = copy.deepcopy(model)
    genome = uneven_genome(model, digits8.x_train)
    cfg = RecoverConfig(method=method, epochs=2, lr=0.02, patience=0)
    out, hist = recover(None, model, digits8, cfg, seed=0, genome=genome)
    assert genome_of(out, digits8.x_train) == genome
    assert same_weights(model, before)  # schedules train a copy of the teacher
    assert hist.method == method and hist.epochs_run == 2
    # the pruned model computes what validation measured (cut channels were zeroed there)
    assert evaluate(out, digits8.x_val, digits8.y_val) == pytest.approx(hist.best_val_acc)


def test_genome_defaults_to_the_students_channel_counts(digits8, teacher):
    from pipeline.prune import apply_genome

    model, _ = teacher
    genome = uneven_genome(model, digits8.x_train)
    student = apply_genome(model, genome, digits8.x_train[:1])
    cfg = RecoverConfig(method="sfp", epochs=1, lr=0.02)
    out, _ = recover(student, model, digits8, cfg, seed=0, finetune_epochs=1)
    assert genome_of(out, digits8.x_train) == genome


def test_factor_schedules():
    assert all(decay_factor("sfp", e, 10) == 0.0 for e in range(10))
    asr = [decay_factor("asrfp", e, 10) for e in range(10)]
    assert all(a > b > 0 for a, b in zip(asr, asr[1:])) and asr[-1] < 0.01
    soft = soft_epochs("ghfp", 10)
    gh = [decay_factor("ghfp", e, soft) for e in range(soft)]
    assert soft_epochs("ghfp", 0) == 0 and soft_epochs("sfp", 3) == 3
    assert soft == 5 and gh[0] > 0.5 and gh[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(a > b for a, b in zip(gh, gh[1:]))


def test_schedules_repeat_with_the_same_seed(digits8, teacher):
    model, _ = teacher
    genome = uneven_genome(model, digits8.x_train)
    cfg = RecoverConfig(method="asrfp", epochs=1, lr=0.02)
    a, _ = recover(None, model, digits8, cfg, seed=5, genome=genome)
    b, _ = recover(None, model, digits8, cfg, seed=5, genome=genome)
    assert same_weights(a, b)


def test_zero_epochs_is_one_shot_pruning(digits8, teacher):
    from pipeline.prune import apply_genome

    model, _ = teacher
    genome = uneven_genome(model, digits8.x_train)
    out, hist = recover(None, model, digits8, RecoverConfig(method="ghfp", epochs=0), seed=0, genome=genome)
    expected = apply_genome(model, genome, digits8.x_train[:1])
    assert hist.epochs_run == 0 and genome_of(out, digits8.x_train) == genome
    assert torch.equal(out(digits8.x_val[:8]), expected.eval()(digits8.x_val[:8]))
