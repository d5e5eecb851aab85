"""train.device: which device `auto` picks, clear errors for a device this machine lacks, and
a CPU run that computes exactly what it did before the device choice existed."""
import pytest

torch = pytest.importorskip("torch")

from pipeline.config import RecoverConfig, TrainConfig, load_config  # noqa: E402
from pipeline.errors import UserError  # noqa: E402
from pipeline.recover import distill, evaluate, recalibrate_bn, train_baseline  # noqa: E402
from pipeline.recover.compute import (Compute, compute_for, current, placed,  # noqa: E402
                                      resolve_device, use)

from .conftest import new_tiny_model, same_weights  # noqa: E402


def machine(monkeypatch, cuda: bool, mps: bool, gpus: int = 1):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus if cuda else 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (True, False, "cuda"),
                                                 (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    machine(monkeypatch, cuda, mps)
    assert resolve_device("auto").type == expected
    assert resolve_device("").type == expected  # an empty key means auto


def test_named_devices_resolve_when_present(monkeypatch):
    machine(monkeypatch, cuda=True, mps=True, gpus=2)
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("CUDA:1") == torch.device("cuda", 1)
    assert resolve_device("mps") == torch.device("mps")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name, cuda, mps, words", [
    ("cuda", False, False, "no CUDA GPU"),
    ("cuda:2", True, False, "1 CUDA device"),
    ("mps", True, False, "MPS"),
    ("tpu", True, True, "not a device"),
    ("cpu:1", False, False, "not a device"),
])
def test_a_missing_or_unknown_device_is_a_user_error(monkeypatch, name, cuda, mps, words):
    machine(monkeypatch, cuda, mps)
    with pytest.raises(UserError, match=words) as err:
        resolve_device(name)
    assert "\n" not in str(err.value)


def test_amp_only_where_it_helps(monkeypatch):
    machine(monkeypatch, cuda=True, mps=False)
    assert compute_for("auto", amp=True) == Compute("cuda", amp=True)
    machine(monkeypatch, cuda=False, mps=False)
    assert compute_for("auto", amp=True) == Compute("cpu", amp=False)


def test_config_rejects_an_unknown_device_before_any_work():
    with pytest.raises(UserError, match="train.device"):
        load_config(overrides=["train.device=gpu0"])
    assert load_config().train.device == "auto"


def test_the_context_is_scoped():
    assert current() == Compute()
    with use(Compute("cpu", amp=True)):
        assert current().amp
    assert current() == Compute()


def test_placed_puts_models_back_where_they_were():
    model = new_tiny_model()
    with use(compute_for("cpu")), placed(model) as device:
        assert device == torch.device("cpu")
        assert next(model.parameters()).device == device
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_a_cpu_run_is_unchanged(digits8, teacher):
    """Training, re-calibration, evaluation and distillation under train.device=cpu give
    bit-identical results to the code path without a compute context."""
    cfg = TrainConfig(epochs=1, lr=0.05)
    plain, plain_hist = train_baseline(new_tiny_model(), digits8, cfg, seed=5, batch_size=64)
    with use(compute_for("cpu")):
        placed_model, placed_hist = train_baseline(new_tiny_model(), digits8, cfg, seed=5,
                                                   batch_size=64)
    assert same_weights(plain, placed_model)
    assert plain_hist.train_loss == placed_hist.train_loss

    base, _ = teacher
    rcfg = RecoverConfig(epochs=1, feature_weight=0.5)
    a, ha = distill(new_tiny_model(1), base, digits8, rcfg, seed=2, max_steps=5)
    with use(compute_for("cpu")):
        b, hb = distill(new_tiny_model(1), base, digits8, rcfg, seed=2, max_steps=5)
        recalibrate_bn(b, digits8.x_train[:64])
        acc_b = evaluate(b, digits8.x_val, digits8.y_val)
    recalibrate_bn(a, digits8.x_train[:64])
    assert same_weights(a, b) and ha.best_val_acc == hb.best_val_acc
    assert evaluate(a, digits8.x_val, digits8.y_val) == acc_b
    assert next(base.parameters()).device.type == "cpu"  # the teacher went back too


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_run_asking_for_cuda_without_it_stops_before_any_work(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--out", str(out),
                           "train.device=cuda"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "train.device = cuda" in done.stderr and "Traceback" not in done.stderr
    assert not (out / "config.toml").exists() and not (out / "status.json").exists()
