"""The predictor's layout rule against ONNX Runtime itself: which convs of pruned models its
optimiser puts into the channel-blocked NCHWc layout (x86 only; skipped where ORT uses none).
A new ORT release that changes the rule fails here, before the predictor quietly loses its
accuracy on host-ort."""
import numpy as np
import pytest
import torch

from pipeline.models import build_model
from pipeline.predictor import random_genomes
from pipeline.predictor.features import runs_blocked
from pipeline.prune import SearchSpace, apply_genome

SHAPE = (1, 1, 16, 16)


def _convs(path) -> list[tuple]:
    """(input channels, output channels, groups) of each conv of an ONNX file, in graph order."""
    import onnx

    graph = onnx.load(str(path)).graph
    shapes = {t.name: tuple(t.dims) for t in graph.initializer}
    out = []
    for node in graph.node:
        if node.op_type == "Conv":
            groups = next((a.i for a in node.attribute if a.name == "group"), 1)
            cout, per_group = shapes[node.input[1]][:2]
            out.append((per_group * groups, cout, groups))
    return out


def _blocked_convs(path, folder) -> list[bool]:
    """In graph order, for each conv of ONNX Runtime's optimised graph: does it run in NCHWc?"""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3   # the optimised file's "hardware specific" warning
    options.optimized_model_filepath = str(folder / f"{path.stem}.opt.onnx")
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    graph = onnx.load(options.optimized_model_filepath).graph
    return [node.domain == "com.microsoft.nchwc" for node in graph.node
            if node.op_type in ("Conv", "FusedConv")]


@pytest.mark.parametrize("name", ["mobilenetv2-tiny", "resnet20"])
def test_the_layout_rule_is_the_one_onnx_runtime_applies(name, tmp_path):
    """Each conv of 12 randomly pruned models, its shape read from the exported file."""
    from pipeline.export.onnx_export import export_onnx

    torch.manual_seed(0)
    model = build_model(name, num_classes=10, in_channels=1).eval()
    example = torch.zeros(SHAPE)
    space = SearchSpace.from_model(model, example)
    shapes, actual, model_of = [], [], []
    for i, genome in enumerate(random_genomes(space, 12, np.random.default_rng(5), min_keep=0.05)):
        path = export_onnx(apply_genome(model, genome, example), example, tmp_path / f"g{i}.onnx")
        convs, blocked = _convs(path), _blocked_convs(path, tmp_path)
        assert len(blocked) == len(convs), "the optimiser fused a conv away or added one"
        shapes += convs
        actual += blocked
        model_of += [i] * len(blocked)
    if not any(actual):
        pytest.skip("ONNX Runtime runs no conv in NCHWc on this CPU")
    cin, cout, groups = (np.asarray(column)[None, :] for column in zip(*shapes))
    kinds = np.full(cin.shape, "conv")
    actual, model_of = np.asarray(actual), np.asarray(model_of)
    # The optimiser may swap two convs that feed one Add (a residual block's second conv and
    # its shortcut, same output channels): compare, per model and output channel count, how
    # many run blocked. The block (8 with AVX2, 16 with AVX-512) only matters for convs with
    # fewer input channels than it.
    sets = [(model_of == m) & (cout[0] == c) for m, c in sorted(set(zip(model_of, cout[0])))]

    def disagreements(block):
        rule = runs_blocked(cin, cout, groups, kinds, block)[0]
        return [i for i, one in enumerate(sets) if rule[one].sum() != actual[one].sum()]

    assert min((disagreements(b) for b in (8, 16)), key=len) == []
    # and the pruned models did exercise the rule: some convs blocked, some not, and some
    # blocked whose channels are not a multiple of the block (a depthwise conv's own, another
    # conv's input channels when more than the block)
    assert 0 < actual.mean() < 1
    grouped = groups[0] > 1
    off_block = np.where(grouped, cout[0] % 16 != 0, (cin[0] > 16) & (cin[0] % 16 != 0))
    assert (actual & off_block).any()
