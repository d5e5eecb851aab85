"""Outputs of a model for inputs in a .npy file, as JSON on stdout. Run on the board AND on
the host (the same code both sides): standard library + numpy + the runtime only.

    python predict_script.py MODEL.onnx|MODEL.tflite INPUTS.npy    # INPUTS: (n, *input_shape)
"""
import json
import platform
import sys

import numpy as np


def outputs_onnx(path, inputs):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return [session.run(None, {name: x[None]})[0][0] for x in inputs], ort.__version__


def outputs_tflite(path, inputs):
    from importlib import metadata

    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    src = interpreter.get_input_details()[0]["index"]
    dst = interpreter.get_output_details()[0]["index"]
    outs = []
    for x in inputs:
        interpreter.set_tensor(src, x[None])
        interpreter.invoke()
        outs.append(interpreter.get_tensor(dst)[0].copy())
    return outs, metadata.version("ai-edge-litert")


def main(model_path, inputs_path):
    inputs = np.load(inputs_path).astype(np.float32)
    run = outputs_onnx if model_path.endswith(".onnx") else outputs_tflite
    outs, version = run(model_path, inputs)
    print(json.dumps({"machine": platform.machine(), "runtime_version": version,
                      "outputs": [o.astype(float).ravel().tolist() for o in outs]}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
