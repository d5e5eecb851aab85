"""Bad input: a conversion that fails names the op and keeps fp32 files; int8 over the limit."""
import pytest

from pipeline.errors import UserError
from pipeline.export import export_winner, parse_formats


def make_determinant_model():
    """ONNX exports torch.linalg.det; litert-torch has no lowering for it."""
    import torch

    from tests.export.conftest import make_tiny_resnet

    class WithDeterminant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = make_tiny_resnet()

        def forward(self, x):
            return self.body(x) + 1e-3 * torch.linalg.det(x[:, 0, :2, :2])[:, None]

    return WithDeterminant().eval()


def test_failed_tflite_conversion_names_op_and_keeps_onnx(tmp_path, digits_splits):
    artifacts = export_winner(make_determinant_model(), tmp_path, digits_splits,
                              formats="onnx,tflite,int8")
    assert artifacts["onnx"]["error"] is None
    assert (tmp_path / "model.onnx").is_file() and artifacts["onnx"]["max_abs_diff"] <= 1e-4
    assert (tmp_path / "model_int8.onnx").is_file()
    assert "linalg_det" in artifacts["tflite"]["error"]
    assert not (tmp_path / "model.tflite").exists()
    assert artifacts["tflite_int8"]["error"].startswith("skipped")


def test_int8_losing_too_much_is_rejected_and_fp32_kept(tmp_path, trained_model, digits_splits):
    # A negative limit rejects every int8 file, however good: this exercises the rejection path.
    artifacts = export_winner(trained_model, tmp_path, digits_splits, formats="onnx,int8",
                              max_int8_drop=-1.0)
    entry = artifacts["onnx_int8"]
    assert "below fp32" in entry["error"] and entry["accuracy"] is not None
    assert entry["path"] is None and not (tmp_path / "model_int8.onnx").exists()
    assert (tmp_path / "model.onnx").is_file() and artifacts["onnx"]["error"] is None


@pytest.mark.parametrize("bad", ["", "int8", "onnx,pytorch", "tflite;onnx"])
def test_bad_format_lists_are_refused(bad):
    with pytest.raises(UserError, match="format"):
        parse_formats(bad)


def test_format_list_parsing():
    assert parse_formats("tflite,onnx,int8") == (("onnx", "tflite"), True)
    assert parse_formats(["onnx"]) == (("onnx",), False)
