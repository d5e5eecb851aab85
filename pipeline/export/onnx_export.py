"""ONNX: export from PyTorch, simplify, check; static int8 quantisation; batched inference.

The input is named `input` and the output `logits`, with a dynamic batch dimension, so the
same file serves parity checks over a whole split and single-image latency measurement.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np

from pipeline.errors import UserError

INPUT_NAME = "input"
OUTPUT_NAME = "logits"


def export_onnx(model, example_input, path, opset: int = 17, simplify: bool = True,
                check: bool = True) -> Path:
    """Write `model` as ONNX at the chosen opset. The GA's fast path is simplify=False, check=False."""
    import onnx
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    try:
        # The TorchScript exporter (dynamo=False) is ~30x faster than dynamo for these CNNs;
        # its deprecation warning is expected.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (example_input,), str(path), dynamo=False, opset_version=opset,
                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                do_constant_folding=True,
            )
    except Exception as exc:  # the exporter raises many types; the message names the op
        raise UserError(f"ONNX export failed: {_first_line(exc)}; replace or rewrite that "
                        "layer, or export with another opset (export --opset, run: export.opset)") from exc
    if simplify:
        _simplify_in_place(path)
    if check:
        try:
            onnx.checker.check_model(str(path), full_check=True)
        except Exception as exc:
            raise UserError(f"exported ONNX file '{path.name}' fails onnx.checker: "
                            f"{_first_line(exc)}") from exc
    return path


def _simplify_in_place(path: Path) -> None:
    import onnx
    import onnxslim

    model = onnx.load(str(path))
    with contextlib.redirect_stdout(io.StringIO()):  # onnxslim prints a summary table
        slim = onnxslim.slim(model)
    onnx.save(slim, str(path))


def onnx_session(path, threads: int = 1):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def run_onnx(path, x: np.ndarray, batch_size: int = 64, threads: int = 1) -> np.ndarray:
    """Logits for every sample of `x` (N,C,H,W float32), run in batches."""
    session = onnx_session(path, threads)
    name = session.get_inputs()[0].name
    fixed_batch = session.get_inputs()[0].shape[0]
    if isinstance(fixed_batch, int):  # a file from elsewhere with a static batch dimension
        batch_size = fixed_batch
    x = np.ascontiguousarray(x, dtype=np.float32)
    outs = [session.run(None, {name: x[i:i + batch_size]})[0] for i in range(0, len(x), batch_size)]
    return np.concatenate(outs, axis=0)


class _ArrayReader:
    """onnxruntime's CalibrationDataReader protocol over an array of real, normalised inputs."""

    def __init__(self, input_name: str, calib_x: np.ndarray, batch_size: int = 16):
        self._batches = iter([
            {input_name: np.ascontiguousarray(calib_x[i:i + batch_size], dtype=np.float32)}
            for i in range(0, len(calib_x), batch_size)
        ])

    def get_next(self):
        return next(self._batches, None)

    def rewind(self):  # not needed by MinMax calibration, part of the protocol
        pass


def quantize_onnx_int8(onnx_path, calib_x: np.ndarray, path, per_channel: bool = True,
                       reduce_range: bool | None = None) -> Path:
    """Static int8 (QDQ) quantisation calibrated on `calib_x` (real training samples).

    uint8 activations with int8 weights is onnxruntime's fast CPU combination (x86 with or without
    VNNI, and ARM); per-channel weights keep ResNet-style convolutions accurate, and measured
    no slower than per-tensor on a ResNet-20 here. `reduce_range` (7-bit weights) is needed on
    x86 without VNNI (see export/int8_target.py); None chooses it for this host.
    """
    if reduce_range is None:
        from pipeline.export.int8_target import host_int8_settings

        reduce_range = host_int8_settings()["reduce_range"]
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if len(calib_x) == 0:
        raise UserError("no calibration samples for int8 quantisation; the training split is empty")
    path = Path(path)
    prepared = path.with_suffix(".pre.onnx")
    reader = _ArrayReader(INPUT_NAME, calib_x)
    CalibrationDataReader.register(_ArrayReader)
    try:
        # Shape inference + graph optimisation first, as onnxruntime's quantisation guide advises.
        quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(path), reader, quant_format=QuantFormat.QDQ,
            per_channel=per_channel, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, reduce_range=reduce_range,
        )
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"ONNX int8 quantisation of '{Path(onnx_path).name}' failed: "
                        f"{_first_line(exc)}") from exc
    finally:
        prepared.unlink(missing_ok=True)
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
