"""Run this bundle's model on images with only numpy and one runtime installed.

    python predict.py --model model.onnx --input samples.npy --json

--input is a .npy array of images as N,C,H,W (or C,H,W) floats in [0, 1], the range before
normalisation; this script normalises them with the mean/std in manifest.json next to it.
The runtime is onnxruntime for .onnx files and ai-edge-litert (or tflite-runtime) for .tflite.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXIT_NO_RUNTIME = 3


def load_manifest(bundle_dir=HERE):
    with open(os.path.join(bundle_dir, "manifest.json")) as f:
        return json.load(f)


class InputError(ValueError):
    """Images that do not fit the model: the message says what to change."""


def check_input(images, manifest):
    """Images as the manifest's input expects them: floats in [0, 1], N,C,H,W or C,H,W."""
    images = np.asarray(images)
    expected = [int(v) for v in manifest["input"]["shape"][1:]]
    if images.dtype.kind != "f":
        hint = " (divide 8-bit images by 255)" if images.dtype.kind in "ui" else ""
        raise InputError(f"input dtype is {images.dtype}; the model takes float images in "
                         f"[0, 1]{hint}")
    if images.ndim not in (3, 4) or list(images.shape[-3:]) != expected:
        raise InputError(f"input shape is {list(images.shape)}; the model takes N,"
                         f"{','.join(map(str, expected))} (or {','.join(map(str, expected))}) "
                         "images, channels first")
    if images.size and (float(images.min()) < -0.01 or float(images.max()) > 1.01):
        raise InputError(f"input values span {float(images.min()):.3g}..{float(images.max()):.3g}; "
                         "the model takes images in [0, 1], before normalisation")
    return images


def normalise(images, manifest):
    x = np.asarray(check_input(images, manifest), dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    norm = manifest["normalisation"]
    mean = np.asarray(norm["mean"], dtype=np.float32)[None, :, None, None]
    std = np.asarray(norm["std"], dtype=np.float32)[None, :, None, None]
    return (x - mean) / std


def run_onnx(path, x, threads):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    batch = inp.shape[0] if isinstance(inp.shape[0], int) else len(x)
    return np.concatenate([session.run(None, {inp.name: x[i:i + batch]})[0]
                           for i in range(0, len(x), batch)])


def _tflite_interpreter(path, threads):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from tflite_runtime.interpreter import Interpreter  # the older name of the same runtime
    return Interpreter(model_path=path, num_threads=threads)


def run_tflite(path, x, threads):
    interpreter = _tflite_interpreter(path, threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    batch = int(inp["shape"][0])
    results = []
    for i in range(0, len(x), batch):
        chunk = x[i:i + batch]
        if inp["dtype"] != np.float32:  # int8 model: quantise with the tensor's scale/zero point
            scale, zero = inp["quantization"]
            info = np.iinfo(inp["dtype"])
            chunk = np.clip(np.round(chunk / scale + zero), info.min, info.max)
        interpreter.set_tensor(inp["index"], np.ascontiguousarray(chunk, dtype=inp["dtype"]))
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"]).astype(np.float32)
        if out["dtype"] != np.float32:
            scale, zero = out["quantization"]
            y = (y - zero) * scale
        results.append(y)
    return np.concatenate(results)


def predict(model_path, images, manifest, threads=1):
    """Logits for raw images in [0, 1]."""
    x = normalise(images, manifest)
    runner = run_onnx if model_path.endswith(".onnx") else run_tflite
    return runner(model_path, x, threads)


def describe(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    top1 = logits.argmax(axis=1)
    return [{"top1": int(k), "label": labels[k] if k < len(labels) else str(k),
             "score": round(float(probs[i, k]), 6)} for i, k in enumerate(top1)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--model", help="model file in this folder (default: the first listed)")
    parser.add_argument("--input", required=True, help=".npy images, N,C,H,W floats in [0, 1]")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    manifest = load_manifest()
    model = args.model or next(a["path"] for a in manifest["artifacts"].values() if a.get("path"))
    model_path = model if os.path.isabs(model) else os.path.join(HERE, model)
    try:
        images = np.load(args.input, allow_pickle=False)   # data only: never unpickle an input
    except (OSError, ValueError) as exc:
        print(f"predict.py: error: cannot read {args.input} as a .npy array ({exc})",
              file=sys.stderr)
        return 2
    try:
        logits = predict(model_path, images, manifest, args.threads)
    except InputError as exc:
        print(f"predict.py: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"predict.py: the runtime for {model} is not installed: {exc}", file=sys.stderr)
        return EXIT_NO_RUNTIME
    predictions = describe(logits, manifest.get("labels", []))
    if args.json:
        print(json.dumps({"model": model, "predictions": predictions}))
    else:
        for i, p in enumerate(predictions):
            print(f"{i}\t{p['label']}\t{p['score']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
