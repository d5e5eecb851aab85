import pytest

torch = pytest.importorskip("torch")

from pipeline.recover import evaluate, recalibrate_bn  # noqa: E402


def test_evaluate_counts_correct_predictions_and_keeps_the_mode():
    class Fixed(torch.nn.Module):  # predicts the class stored in the first pixel
        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, 0, 0, 0].long(), 3).float()

    x = torch.zeros(5, 1, 2, 2)
    x[:, 0, 0, 0] = torch.tensor([0, 1, 2, 1, 0])
    y = torch.tensor([0, 1, 1, 1, 2])
    model = Fixed().train()
    assert evaluate(model, x, y, batch_size=2) == pytest.approx(3 / 5)
    assert model.training


def test_recalibrate_bn_changes_running_stats_not_weights(digits8, teacher):
    import copy

    model = copy.deepcopy(teacher[0])
    bn = model.bn1
    weights_before = {k: v.clone() for k, v in model.named_parameters()}
    bn.running_mean.fill_(5.0)  # stale statistics, as after pruning
    bn.running_var.fill_(9.0)
    momentum = bn.momentum
    batches = [digits8.x_train[i:i + 64] for i in range(0, 256, 64)]
    recalibrate_bn(model, batches)

    assert not torch.allclose(bn.running_mean, torch.full_like(bn.running_mean, 5.0))
    # cumulative average over the batches = close to the statistics of the conv output
    with torch.no_grad():
        conv_out = model.conv1(torch.cat(batches))
    assert torch.allclose(bn.running_mean, conv_out.mean(dim=(0, 2, 3)), atol=1e-4)
    for name, value in model.named_parameters():
        assert torch.equal(value, weights_before[name]), name
    assert bn.momentum == momentum and not model.training


def test_recalibrate_bn_repairs_accuracy_after_stats_are_wiped(digits8, teacher):
    import copy

    model = copy.deepcopy(teacher[0])
    good = evaluate(model, digits8.x_val, digits8.y_val)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 3)
    broken = evaluate(model, digits8.x_val, digits8.y_val)
    recalibrate_bn(model, [(digits8.x_train[:300], digits8.y_train[:300])])
    assert broken < good - 0.2
    assert evaluate(model, digits8.x_val, digits8.y_val) > good - 0.05


def test_recalibrate_bn_takes_one_tensor_as_one_batch(digits8, teacher):
    import copy

    a, b = copy.deepcopy(teacher[0]), copy.deepcopy(teacher[0])
    recalibrate_bn(a, digits8.x_train[:128])
    recalibrate_bn(b, [digits8.x_train[:128]])
    assert torch.equal(a.bn1.running_var, b.bn1.running_var)
