"""Inputs for exporting a pruned model that comes without data (an `edgeprune prune` folder).

Parity with PyTorch (max |diff|, top-1 agreement) needs only inputs, not labels: seeded
standard-normal tensors of the model's input shape (what a normalised image looks like to the
first layer). Accuracy needs labelled data and is not measured; int8 needs calibration data
and is refused.
"""
from __future__ import annotations

N_SAMPLES = 64
NOTE = (f"no data: parity checked on {N_SAMPLES} random inputs (seeded normal); accuracy was "
        "not measured")


def random_splits(input_shape, num_classes: int, seed: int = 0, n: int = N_SAMPLES):
    """A Splits whose every part is the same random inputs; labels are placeholders (zeros)."""
    import torch

    from pipeline.data import Splits

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((n, *tuple(input_shape)[1:]), generator=gen)
    y = torch.zeros(n, dtype=torch.long)
    channels = int(input_shape[1])
    return Splits(name="random", x_train=x, y_train=y, x_val=x, y_val=y, x_test=x, y_test=y,
                  mean=[0.0] * channels, std=[1.0] * channels,
                  labels=[str(i) for i in range(num_classes)])


def bundle_manifest(record: dict) -> dict:
    """A manifest for a prune folder: its model, the input, identity normalisation, the note."""
    shape = [int(d) for d in record["input_shape"]]
    return {"model": record["base_ref"], "channels": record["channels"],
            "input": {"name": "input", "shape": shape, "dtype": "float32", "layout": "NCHW",
                      "range": "already normalised (exported without data)"},
            "normalisation": {"mean": [0.0] * shape[1], "std": [1.0] * shape[1]},
            "labels": [str(i) for i in range(int(record.get("num_classes", 10)))],
            "accuracy": None, "accuracy_measured": False, "parity_inputs": NOTE}
