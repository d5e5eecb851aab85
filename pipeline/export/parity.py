"""Does an exported file compute what the PyTorch model computes, on real inputs?"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import UserError


@dataclass(frozen=True)
class Parity:
    max_abs_diff: float      # largest |logit difference| to PyTorch over all samples
    top1_agreement: float    # fraction of samples whose top-1 class matches PyTorch's
    accuracy: float          # top-1 accuracy of the file against the labels
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def run_file(path, x: np.ndarray) -> np.ndarray:
    """Logits of an .onnx or .tflite file for inputs `x` (N,C,H,W float32, normalised)."""
    suffix = Path(path).suffix
    if suffix == ".onnx":
        from pipeline.export.onnx_export import run_onnx

        return run_onnx(path, x)
    if suffix == ".tflite":
        from pipeline.export.tflite_export import run_tflite

        return run_tflite(path, x)
    raise UserError(f"'{path}' is neither .onnx nor .tflite; cannot run it")


def torch_logits(model, x, batch_size: int | None = None) -> np.ndarray:
    import torch

    from pipeline.batching import inference_batch

    model = model.eval()
    x = torch.as_tensor(x, dtype=torch.float32)
    batch_size = batch_size or inference_batch(x)
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]).numpy()


def compare(logits: np.ndarray, reference: np.ndarray, y) -> Parity:
    y = np.asarray(y)
    return Parity(
        max_abs_diff=float(np.max(np.abs(logits - reference))) if len(y) else 0.0,
        top1_agreement=float(np.mean(logits.argmax(1) == reference.argmax(1))) if len(y) else 1.0,
        accuracy=float(np.mean(logits.argmax(1) == y)) if len(y) else 0.0,
        n=int(len(y)),
    )


def check_parity(path, model, x, y, reference: np.ndarray | None = None) -> Parity:
    """Compare the file's logits with the model's on real inputs `x` with labels `y`.

    `reference` (the model's logits on x) can be passed in to avoid recomputing it per file.
    """
    x_np = x.numpy() if hasattr(x, "numpy") else np.asarray(x, dtype=np.float32)
    y_np = y.numpy() if hasattr(y, "numpy") else np.asarray(y)
    if reference is None:
        reference = torch_logits(model, x)
    return compare(run_file(path, x_np), reference, y_np)
