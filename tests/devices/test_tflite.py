"""LiteRT models: fp32 and int8 (int8 input tensor) measured by the same runner as ONNX."""
import numpy as np
import pytest

from pipeline.devices.device import open_device
from pipeline.devices.model_info import model_input_shape
from tests.devices.conftest import SHAPE, write_profile


@pytest.fixture(scope="module")
def tflite_models(tmp_path_factory):
    """One fp32 and one int8 .tflite of a tiny CNN (litert_torch is slow to import: once)."""
    litert_torch = pytest.importorskip("litert_torch")
    import torch

    folder = tmp_path_factory.mktemp("tflite")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    fp32 = folder / "tiny.tflite"
    litert_torch.convert(model, (torch.randn(*SHAPE),)).export(str(fp32))

    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    signature, names = next(iter(Interpreter(model_path=str(fp32)).get_signature_list().items()))
    rng = np.random.default_rng(0)
    samples = [{names["inputs"][0]: rng.standard_normal(SHAPE).astype(np.float32)}
               for _ in range(4)]
    q = quantizer.Quantizer(str(fp32), recipe.static_wi8_ai8())
    int8 = folder / "tiny_int8.tflite"
    q.quantize(q.calibrate({signature: samples})).export_model(str(int8), overwrite=True)
    return fp32, int8


def test_int8_model_has_int8_input(tflite_models):
    from ai_edge_litert.interpreter import Interpreter

    detail = Interpreter(model_path=str(tflite_models[1])).get_input_details()[0]
    assert detail["dtype"] == np.int8 and detail["quantization"][0] > 0


def test_one_device_measures_both_formats(tflite_models, onnx_model, tmp_path):
    fp32, int8 = tflite_models
    profile = write_profile(tmp_path / "both.toml", runtime="tflite")
    assert model_input_shape(fp32) == SHAPE
    with open_device(profile) as device:
        ms = device.measure([fp32, int8, onnx_model], SHAPE)
    assert [m.facts["runtime"] for m in ms] == ["tflite", "tflite", "onnxruntime"]
    assert all(m.stats.n == 5 and m.stats.p50_ms > 0 for m in ms)
    assert ms[0].key != ms[1].key
