"""ONNX export: names, checker, parity with PyTorch on real inputs, the GA's fast path, int8."""
import numpy as np
import pytest

from pipeline.errors import UserError
from pipeline.export import check_parity, export_onnx, quantize_onnx_int8, run_onnx


def test_onnx_fp32_matches_pytorch_on_every_test_sample(tmp_path, trained_model, digits_splits):
    import onnx

    s = digits_splits
    path = export_onnx(trained_model, s.x_test[:1], tmp_path / "m.onnx", opset=17)
    graph = onnx.load(str(path))
    assert [i.name for i in graph.graph.input] == ["input"]
    assert [o.name for o in graph.graph.output] == ["logits"]
    assert {o.domain: o.version for o in graph.opset_import}[""] == 17
    parity = check_parity(path, trained_model, s.x_test, s.y_test)
    assert parity.n == len(s.y_test)
    assert parity.max_abs_diff <= 1e-4
    assert parity.top1_agreement == 1.0
    assert parity.accuracy > 0.5  # trained, far above the 0.1 of chance


def test_fast_path_gives_the_same_logits(tmp_path, trained_model, digits_splits):
    x = digits_splits.x_val[:32]
    full = export_onnx(trained_model, x[:1], tmp_path / "full.onnx")
    fast = export_onnx(trained_model, x[:1], tmp_path / "fast.onnx", simplify=False, check=False)
    np.testing.assert_allclose(run_onnx(fast, x.numpy()), run_onnx(full, x.numpy()), atol=1e-5)


def test_unsupported_op_is_named(tmp_path):
    import torch

    class Inverse(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.inv(x[:, 0, :2, :2]).flatten(1)

    with pytest.raises(UserError, match="linalg_inv"):
        export_onnx(Inverse(), torch.randn(1, 1, 4, 4), tmp_path / "bad.onnx")


def test_onnx_int8_is_calibrated_and_keeps_accuracy(tmp_path, trained_model, digits_splits):
    import onnx

    s = digits_splits
    fp32 = export_onnx(trained_model, s.x_test[:1], tmp_path / "m.onnx")
    int8 = quantize_onnx_int8(fp32, s.x_train[:128].numpy(), tmp_path / "m_int8.onnx")
    ops = {n.op_type for n in onnx.load(str(int8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    fp32_acc = check_parity(fp32, trained_model, s.x_test, s.y_test).accuracy
    int8_acc = check_parity(int8, trained_model, s.x_test, s.y_test).accuracy
    assert int8_acc >= fp32_acc - 0.03


def test_int8_without_calibration_data_is_refused(tmp_path, trained_model, digits_splits):
    fp32 = export_onnx(trained_model, digits_splits.x_test[:1], tmp_path / "m.onnx")
    with pytest.raises(UserError, match="calibration"):
        quantize_onnx_int8(fp32, np.zeros((0, 1, 8, 8), np.float32), tmp_path / "q.onnx")
