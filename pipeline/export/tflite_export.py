"""TFLite through litert-torch (fp32), ai-edge-quantizer static int8, inference with ai-edge-litert.

litert-torch takes seconds to import and prints progress, absl and TensorFlow lines from C++, so
it is imported inside the functions, under `_quiet()`, which swallows output at the file
descriptor level (Python-level redirection cannot reach C++ writes).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from pipeline.errors import UserError

# Phrases litert-torch / torch.export use when an operator cannot be converted.
_OP_PATTERNS = (
    r"Lowering not found: (\S+)",
    r"call_function\[target=torch\.ops\.([\w.]+)\]",
    r"'(aten::\w+)'",
)


@contextlib.contextmanager
def _quiet():
    """Send fd 1 and 2 to a temporary file; the captured text is in the yielded list on exit."""
    captured: list[str] = []
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))


def failing_op(message: str) -> str | None:
    """The operator named in a conversion error, if the message names one."""
    for pattern in _OP_PATTERNS:
        match = re.search(pattern, message)
        if match:
            return match.group(1)
    return None


def export_tflite(model, example_input, path) -> Path:
    """Convert `model` (fixed batch of example_input, NCHW kept) to an fp32 .tflite file."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _quiet():
            import litert_torch

            with torch.no_grad():
                converted = litert_torch.convert(model.eval(), (example_input,))
            converted.export(str(path))
    except Exception as exc:  # conversion raises RuntimeError, AssertionError, JAX errors...
        message = str(exc)
        op = failing_op(message)
        where = f"operator {op} is not supported by litert-torch" if op else \
            f"{type(exc).__name__}: {message.strip().splitlines()[0][:300] if message.strip() else ''}"
        raise UserError(f"TFLite conversion failed: {where}; replace that layer with a supported "
                        "one or export ONNX only (--format onnx)") from exc
    return path


def quantize_tflite_int8(fp32_tflite_path, calib_x: np.ndarray, path) -> Path:
    """Static int8 (weights and activations) with ai-edge-quantizer, calibrated on `calib_x`.

    The result has int8 input and output tensors; run_tflite (de)quantises around them.
    """
    path = Path(path)
    if len(calib_x) == 0:
        raise UserError("no calibration samples for int8 quantisation; the training split is empty")
    interpreter = _interpreter(fp32_tflite_path)
    signatures = interpreter.get_signature_list()
    signature = next(iter(signatures))
    input_name = signatures[signature]["inputs"][0]
    batch = int(interpreter.get_input_details()[0]["shape"][0])
    samples = [{input_name: np.ascontiguousarray(calib_x[i:i + batch], dtype=np.float32)}
               for i in range(0, len(calib_x) - batch + 1, batch)]
    try:
        with _quiet():
            from ai_edge_quantizer import quantizer, recipe

            q = quantizer.Quantizer(str(fp32_tflite_path), recipe.static_wi8_ai8())
            result = q.quantize(q.calibrate({signature: samples}))
            result.export_model(str(path), overwrite=True)
    except Exception as exc:
        raise UserError(f"TFLite int8 quantisation of '{Path(fp32_tflite_path).name}' failed: "
                        f"{type(exc).__name__}: {str(exc).strip()[:300]}") from exc
    return path


def _interpreter(path, threads: int = 1):
    from ai_edge_litert.interpreter import Interpreter

    with _quiet():  # the XNNPACK delegate announces itself on stderr
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    return interpreter


def run_tflite(path, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """Logits for every sample of `x` (N,C,H,W float32), one model-batch at a time.

    Int8 input/output tensors are handled with their scale and zero point.
    """
    interpreter = _interpreter(path, threads)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    batch = int(inp["shape"][0])
    if len(x) % batch:
        raise UserError(f"'{Path(path).name}' takes batches of {batch}; got {len(x)} samples")
    results = []
    for i in range(0, len(x), batch):
        interpreter.set_tensor(inp["index"], _to_tensor(x[i:i + batch], inp))
        interpreter.invoke()
        results.append(_from_tensor(interpreter.get_tensor(out["index"]), out))
    return np.concatenate(results, axis=0)


def _to_tensor(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = detail["dtype"]
    if dtype == np.float32:
        return np.ascontiguousarray(x, dtype=np.float32)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    q = np.round(x / scale + zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


def _from_tensor(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return y.copy()
    scale, zero_point = detail["quantization"]
    return (y.astype(np.float32) - zero_point) * scale
