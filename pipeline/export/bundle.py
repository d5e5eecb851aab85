"""The deployment bundle `winners/<id>/`: model files, manifest.json, predict.py, samples.npy.

The manifest lists the sha256 of every file, so a copied or downloaded bundle can be checked
(`verify_bundle`) before anything is run from it.
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_target, copy_atomic, write_text_atomic
from pipeline.errors import UserError

MANIFEST = "manifest.json"
PREDICT = "predict.py"
SAMPLES = "samples.npy"
TEMPLATE = Path(__file__).with_name("predict_template.py")
_ORT_TYPES = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(int8)": "int8",
              "tensor(float16)": "float16"}


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundle_files(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and "__pycache__" not in p.parts and not p.name.startswith("."))


def load_predict_module(path: Path = TEMPLATE):
    """predict.py as a module, so expected answers come from the very code deploy runs."""
    spec = importlib.util.spec_from_file_location("edgeprune_bundle_predict", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _file_input(path: Path) -> dict:
    """Name, shape and dtype of the file's input tensor as the runtime sees it."""
    if path.suffix == ".onnx":
        from pipeline.export.onnx_export import onnx_session

        inp = onnx_session(path).get_inputs()[0]
        # onnxruntime says "tensor(float)"; the manifest uses numpy's names, like TFLite's.
        dtype = _ORT_TYPES.get(inp.type, inp.type)
        return {"name": inp.name, "shape": list(inp.shape), "dtype": dtype}
    from pipeline.export.tflite_export import _interpreter

    detail = _interpreter(path).get_input_details()[0]
    return {"name": detail["name"], "shape": [int(d) for d in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name}


def write_bundle(out_dir, manifest: dict, *, splits=None, n_samples: int = 8) -> Path:
    """Complete `manifest` and write manifest.json, predict.py and samples.npy into out_dir.

    With `splits`, normalisation, labels, the input shape and the sample images come from it;
    without, the manifest must already hold `normalisation` and `input` (re-export).
    """
    out_dir = Path(out_dir)
    manifest = copy.deepcopy(manifest)
    artifacts = manifest.get("artifacts") or {}
    produced = {k: a for k, a in artifacts.items() if a.get("path")}
    if splits is not None:
        manifest["input"] = {"name": "input", "shape": list(splits.input_shape), "dtype": "float32",
                             "layout": "NCHW", "range": "[0, 1] before normalisation"}
        manifest["normalisation"] = {"mean": list(splits.mean), "std": list(splits.std)}
        manifest["labels"] = list(splits.labels)
    if "normalisation" not in manifest or "input" not in manifest:
        raise UserError("write_bundle needs the data splits or a manifest with 'normalisation' "
                        "and 'input'; pass splits=...")
    copy_atomic(TEMPLATE, out_dir / PREDICT)
    for artifact in produced.values():
        artifact["input"] = _file_input(out_dir / artifact["path"])
    if splits is not None and n_samples > 0:
        mean = np.asarray(splits.mean, dtype=np.float32)[None, :, None, None]
        std = np.asarray(splits.std, dtype=np.float32)[None, :, None, None]
        raw = splits.x_test[:n_samples].numpy() * std + mean  # predict.py takes images in [0, 1]
        with atomic_target(out_dir / SAMPLES) as tmp:
            np.save(tmp, raw.astype(np.float32))
        manifest["samples"] = {"path": SAMPLES, "labels": splits.y_test[:n_samples].tolist()}
    if (out_dir / SAMPLES).is_file() and "samples" in manifest:
        predict = load_predict_module()
        raw = np.load(out_dir / SAMPLES)
        manifest["samples"]["expected_top1"] = {
            key: predict.predict(str(out_dir / a["path"]), raw, manifest).argmax(1).tolist()
            for key, a in produced.items()}
    for artifact in produced.values():
        artifact["sha256"] = sha256_file(out_dir / artifact["path"])
    manifest["files"] = {p.relative_to(out_dir).as_posix(): sha256_file(p)
                         for p in _bundle_files(out_dir)}
    path = out_dir / MANIFEST
    write_text_atomic(path, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return path


def read_manifest(bundle_dir) -> dict:
    path = Path(bundle_dir) / MANIFEST
    if not path.is_file():
        raise UserError(f"'{bundle_dir}' has no {MANIFEST}; pass a winner folder written by "
                        "`edgeprune run` or `edgeprune export`")
    try:
        manifest = json.loads(path.read_bytes())
    except ValueError as exc:   # not JSON, or not UTF-8
        raise UserError(f"'{path}' is not valid JSON ({exc}); re-run `edgeprune export` on the "
                        "winner folder") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts", {}), dict):
        raise UserError(f"'{path}' is not a bundle manifest (a JSON object with 'artifacts'); "
                        "re-run `edgeprune export` on the winner folder")
    return manifest


def verify_bundle(bundle_dir) -> dict:
    """The manifest, after checking every listed file exists and matches its sha256."""
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise UserError(f"'{bundle_dir / MANIFEST}' lists no files with their sha256; "
                        "re-run `edgeprune export` on the winner folder")
    for name, expected in files.items():
        path = bundle_dir / name
        if not path.is_file():
            raise UserError(f"'{bundle_dir}' is incomplete: '{name}' listed in {MANIFEST} is "
                            "missing; copy the whole folder again or re-run `edgeprune export`")
        if sha256_file(path) != expected:
            raise UserError(f"'{path}' does not match its sha256 in {MANIFEST} (changed or "
                            "corrupted); copy the whole folder again or re-run `edgeprune export`")
    return manifest
