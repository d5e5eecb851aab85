"""Export one winner to every requested format, verify each file, measure it on the device.

Each step is attempted on its own: a conversion that fails, or an int8 file that loses too much
accuracy, is recorded with an `error` and the other files (fp32 first) are still produced.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pipeline.atomic import temp_name
from pipeline.errors import UserError
from pipeline.progress import progress, status

FORMATS = ("onnx", "tflite")
FILE_NAMES = {
    "onnx": "model.onnx",
    "tflite": "model.tflite",
    "onnx_int8": "model_int8.onnx",
    "tflite_int8": "model_int8.tflite",
}
# fp32 files must reproduce PyTorch's logits this closely on every test sample.
FP32_ATOL = 1e-4


def parse_formats(text_or_list) -> tuple[tuple[str, ...], bool]:
    """'onnx,tflite,int8' -> (('onnx', 'tflite'), True)."""
    items = text_or_list.split(",") if isinstance(text_or_list, str) else list(text_or_list)
    items = [i.strip().lower() for i in items if i.strip()]
    unknown = [i for i in items if i not in (*FORMATS, "int8")]
    if unknown or not any(i in FORMATS for i in items):
        raise UserError(f"unknown or missing export format in {','.join(items) or '(empty)'}; "
                        "use a comma list of onnx, tflite and optionally int8, e.g. onnx,tflite,int8")
    return tuple(f for f in FORMATS if f in items), "int8" in items


def _empty_entry() -> dict:
    return {"path": None, "sha256": None, "bytes": None, "max_abs_diff": None,
            "top1_agreement": None, "accuracy": None, "latency_ms": None, "error": None}


def export_winner(model, out_dir, splits, *, formats=FORMATS, int8: bool = False, opset: int = 17,
                  device=None, max_int8_drop: float = 0.01, calib_samples: int = 256,
                  seed: int = 0) -> dict:
    """Write the files into out_dir and return the manifest's `artifacts` dict (see ARCHITECTURE)."""
    from pipeline.export.bundle import sha256_file
    from pipeline.export.parity import check_parity, torch_logits

    formats, int8_from_list = parse_formats(formats)
    int8 = int8 or int8_from_list
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    example = splits.x_test[:1]
    reference = torch_logits(model, splits.x_test)
    rng = np.random.default_rng(seed)
    n_train = len(splits.x_train)
    # index before .numpy(): a lazily read training set decodes only the images drawn
    calib_x = splits.x_train[rng.choice(n_train, min(n_train, calib_samples), replace=False)].numpy()

    keys = [*formats] + ([f"{f}_int8" for f in formats] if int8 else [])
    artifacts = {key: _empty_entry() for key in keys}
    onnx_int8 = None
    if "onnx_int8" in keys:
        from pipeline.export.int8_target import device_int8_settings

        onnx_int8 = device_int8_settings(device)
        artifacts["onnx_int8"]["quantization"] = {
            "activations": "uint8", "weights": "int8", "per_channel": True, **onnx_int8}
    for key in progress(keys, desc="export", unit="file"):
        entry = artifacts[key]
        target = out_dir / FILE_NAMES[key]
        fp32_key = key.removesuffix("_int8")
        if key != fp32_key and artifacts[fp32_key]["error"]:
            entry["error"] = f"skipped: the fp32 {fp32_key} export failed"
            continue
        # Made and checked under a temporary name: a file that fails (or an int8 file that
        # loses too much) never replaces the one already there.
        tmp = temp_name(target)
        try:
            _produce(key, model, example, tmp, out_dir / FILE_NAMES[fp32_key], calib_x, opset,
                     onnx_int8)
            parity = check_parity(tmp, model, splits.x_test, splits.y_test, reference=reference)
        except KeyboardInterrupt:
            tmp.unlink(missing_ok=True)
            raise
        except Exception as exc:  # converters raise anything; record it and go on
            tmp.unlink(missing_ok=True)
            entry["error"] = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            status(f"export {key}: {entry['error']}")
            continue
        entry.update(**{k: v for k, v in parity.to_dict().items() if k != "n"},
                     parity_samples=parity.n)
        if key == fp32_key:
            entry["parity_ok"] = parity.max_abs_diff <= FP32_ATOL and parity.top1_agreement == 1.0
            if not entry["parity_ok"]:
                status(f"export {key}: differs from PyTorch (max abs diff {parity.max_abs_diff:.2e}, "
                       f"top-1 agreement {parity.top1_agreement:.4f})")
        elif not _check_int8_drop(entry, artifacts[fp32_key], max_int8_drop):
            tmp.unlink(missing_ok=True)
            continue
        os.replace(tmp, target)
        entry.update(path=target.name, sha256=sha256_file(target), bytes=target.stat().st_size)
    if device is not None:
        from pipeline.export.device_check import verify_int8_on_device

        verify_int8_on_device(device, model, splits, out_dir, artifacts)
        measure_artifacts(device, out_dir, artifacts, splits.input_shape)
    return artifacts


def _produce(key, model, example, target, fp32_path, calib_x, opset, onnx_int8=None) -> None:
    from pipeline.export import onnx_export, tflite_export

    if key == "onnx":
        onnx_export.export_onnx(model, example, target, opset=opset)
    elif key == "tflite":
        tflite_export.export_tflite(model, example, target)
    elif key == "onnx_int8":
        onnx_export.quantize_onnx_int8(fp32_path, calib_x, target,
                                       reduce_range=(onnx_int8 or {}).get("reduce_range"))
    elif key == "tflite_int8":
        tflite_export.quantize_tflite_int8(fp32_path, calib_x, target)


def _check_int8_drop(entry: dict, fp32_entry: dict, max_drop: float) -> bool:
    """False (and the entry says why) when the int8 file loses too much: it is not kept."""
    drop = fp32_entry["accuracy"] - entry["accuracy"]
    entry["accuracy_drop"] = drop
    if drop > max_drop:
        entry["error"] = (f"int8 accuracy {entry['accuracy']:.4f} is {drop * 100:.2f} points below "
                          f"fp32 {fp32_entry['accuracy']:.4f} (limit {max_drop * 100:.2f}); "
                          "raise export.max_int8_drop or keep the fp32 file")
        entry.update(path=None, sha256=None, bytes=None)
        status(f"export: {entry['error']}")
        return False
    return True


def measure_artifacts(device, out_dir: Path, artifacts: dict, input_shape) -> None:
    """Re-measure every produced file on the device in one batch; a device failure is recorded."""
    from pipeline.devices.stats import latency_dict, sample_list

    produced = [key for key, entry in artifacts.items() if entry["path"]]
    if not produced:
        return
    paths = [Path(out_dir) / artifacts[key]["path"] for key in produced]
    try:
        measurements = device.measure(paths, tuple(input_shape))
    except UserError as exc:  # DeviceError: the files stay, the latency is unknown and says why
        for key in produced:
            artifacts[key]["latency_error"] = str(exc)
        status(f"export: measuring on the device failed: {exc}")
        return
    for key, measurement in zip(produced, measurements):
        artifacts[key]["latency_ms"] = {**latency_dict(measurement.stats),
                                        "samples": sample_list(measurement.stats.samples_ms)}
    flag_slow_int8(artifacts)


def flag_slow_int8(artifacts: dict) -> None:
    """Mark each int8 file measured slower than its fp32 file (`slower_than_fp32`).

    int8 is not always faster: on a small pruned model the (de)quantise steps can cost more
    than the integer kernels save. Recorded so that the fp32 file is the one deployed.
    """
    for key, entry in artifacts.items():
        fp32 = artifacts.get(key.removesuffix("_int8"))
        if key.endswith("_int8") and fp32 and entry.get("latency_ms") and fp32.get("latency_ms"):
            entry["slower_than_fp32"] = entry["latency_ms"]["p50"] > fp32["latency_ms"]["p50"]
