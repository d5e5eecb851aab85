"""What the host can read from a model file without measuring it: its input shape."""
from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import UserError


def model_input_shape(path) -> tuple[int, ...]:
    """The first input's shape; symbolic (dynamic) dimensions become 1."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        import onnx

        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # protobuf raises several types for a corrupt file
            raise UserError(f"{path} is not a valid ONNX file ({exc}); re-export it") from None
        weights = {t.name for t in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in weights]
        if not inputs:
            raise UserError(f"{path} has no graph input; re-export it")
        dims = inputs[0].type.tensor_type.shape.dim
        return tuple(d.dim_value if d.dim_value > 0 else 1 for d in dims)
    if suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        try:
            details = Interpreter(model_path=str(path)).get_input_details()
        except Exception as exc:
            raise UserError(f"{path} is not a valid TFLite file ({exc}); re-export it") from None
        return tuple(int(d) if d > 0 else 1 for d in details[0]["shape"])
    raise UserError(f"{path}: unknown model format {suffix!r}; use .onnx or .tflite")


def parse_shape(text: str) -> tuple[int, ...]:
    """'1,3,32,32' or '1x3x32x32' -> (1, 3, 32, 32)."""
    try:
        shape = tuple(int(p) for p in re.split(r"[,x]", text.strip()))
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise UserError(f"--input-shape {text!r}: give positive integers like 1,3,32,32")
    return shape
