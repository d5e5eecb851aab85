"""Tiny, deterministic ONNX CNNs built with onnx.helper, for tests and benchmarks.

No torch: building one takes milliseconds. `weights_seed` changes weight values only, which
is how a GA's individuals with equal architecture look to the latency cache.
"""
from __future__ import annotations

from pathlib import Path


def make_conv_onnx(path, widths=(8, 16), input_shape=(1, 3, 32, 32), weights_seed: int = 0,
                   stride: int = 2) -> Path:
    """Conv3x3+ReLU per width (stride 2 after the first), global average pool; fp32."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(weights_seed)
    nodes, inits = [], []
    channels, current = input_shape[1], "input"
    for i, width in enumerate(widths):
        w = rng.standard_normal((width, channels, 3, 3)).astype(np.float32) * 0.1
        b = np.zeros(width, np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        s = 1 if i == 0 else stride
        nodes.append(helper.make_node("Conv", [current, f"w{i}", f"b{i}"], [f"c{i}"],
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[s, s]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        channels, current = width, f"r{i}"
    nodes.append(helper.make_node("GlobalAveragePool", [current], ["output"]))
    graph = helper.make_graph(
        nodes, "tiny_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                          list(input_shape))],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                       [input_shape[0], channels, 1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path
