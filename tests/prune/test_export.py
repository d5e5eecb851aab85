"""A pruned model of every zoo family exports to ONNX (opset 17) and runs in ONNX Runtime."""
import warnings

import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from pipeline.models import create_model  # noqa: E402
from pipeline.prune import SearchSpace, apply_genome  # noqa: E402

FAMILIES = ["lenet5", "resnet20", "resnet56", "vgg11", "vgg16", "mobilenetv2", "mobilenetv3"]


@pytest.mark.parametrize("family", FAMILIES)
def test_pruned_family_exports_and_runs(family, tmp_path):
    torch.manual_seed(0)
    model = create_model(f"{family}-tiny", num_classes=7, in_channels=1).eval()
    x = torch.randn(1, 1, 32, 32)
    space = SearchSpace.from_model(model, x)
    pruned = apply_genome(model, space.uniform(0.5), x).eval()
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in model.parameters())
    path = tmp_path / f"{family}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(pruned, x, str(path), dynamo=False, opset_version=17)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert out.shape == (1, 7)
    with torch.no_grad():
        assert abs(out - pruned(x).numpy()).max() < 1e-4
