import pytest

torch = pytest.importorskip("torch")

from pipeline.config import TrainConfig  # noqa: E402
from pipeline.recover import evaluate, train_baseline  # noqa: E402
from pipeline.recover.loop import LoopSettings, fit, random_shift  # noqa: E402

from .conftest import new_tiny_model, same_weights  # noqa: E402


def test_baseline_learns_digits(digits8, teacher):
    model, hist = teacher
    assert hist.epochs_run == 8 and len(hist.train_loss) == 8
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert hist.best_val_acc > 0.6  # chance is 0.1
    # the returned model is the best checkpoint
    assert evaluate(model, digits8.x_val, digits8.y_val) == pytest.approx(hist.best_val_acc)


def test_same_seed_same_weights(digits8):
    cfg = TrainConfig(epochs=1, lr=0.05)
    a, ha = train_baseline(new_tiny_model(), digits8, cfg, seed=3, batch_size=64)
    b, hb = train_baseline(new_tiny_model(), digits8, cfg, seed=3, batch_size=64)
    c, _ = train_baseline(new_tiny_model(), digits8, cfg, seed=4, batch_size=64)
    assert same_weights(a, b) and ha.train_loss == hb.train_loss
    assert not same_weights(a, c)


def test_early_stopping_restores_the_best_state(digits8):
    import torch.nn.functional as F

    calls = {"n": 0}

    def learn_then_sabotage(model, x, y):
        # one epoch of learning, then gradient *ascent*: validation can only get worse
        calls["n"] += 1
        loss = F.cross_entropy(model(x), y)
        return loss if calls["n"] <= 10 else -loss

    data = digits8
    settings = LoopSettings(epochs=8, lr=0.05, batch_size=60, patience=2)  # 600 images: 10 steps/epoch
    model, hist = fit(new_tiny_model(), data, learn_then_sabotage, settings, seed=0)
    # patience counts from the second half: epochs 0-3 run, epoch 3 is 3 epochs past the best
    assert hist.stopped_early and hist.epochs_run == 4 and hist.best_epoch == 0
    assert evaluate(model, data.x_val, data.y_val) == pytest.approx(hist.val_acc[0])
    assert hist.val_acc[0] > max(hist.val_acc[1:])


def test_random_shift_moves_content_without_flipping():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 3, 5] = 1.0
    gen = torch.Generator().manual_seed(0)
    out = random_shift(x, 2, gen)
    pos = out[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 8, pos % 8
    assert out.shape == x.shape and torch.all(out.sum(dim=(1, 2, 3)) >= 1)
    assert rows.min() >= 1 and rows.max() <= 5 and cols.min() >= 3 and cols.max() <= 7
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5  # really random, per image
