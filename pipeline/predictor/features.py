"""Architecture features for the latency regression, from layer shapes (numpy, vectorised).

Latency on a CPU is close to a sum over layers, and each layer's cost follows its work rounded
up to the kernel's SIMD tile: 63 channels can cost more than 64. So the features are, per layer
kind (conv, pointwise, depthwise, linear): MACs, MACs with channel counts padded to 4, 8 and
16, activations written and read, and how many layers sit off a multiple of 8. Optionally the
same padded MACs per layer ("layers"): a per-layer cost the regression learns from end-to-end
measurements, like a lookup table that already includes fusion and memory effects.

"blocks": runtimes that compute in a channel-blocked layout take a layer into it only when its
channels fit the block (ONNX Runtime's NCHWc on x86: a depthwise conv needs its channels, any
other conv its input channels, a multiple of the block, 8 with AVX2 and 16 with AVX-512); the
others run a slower plain kernel, and each switch between the layouts costs a reorder of the
activations. So, per block size 8 and 16: per kind the MACs and activations of layers off the
block, and the number of layout switches between consecutive layers and the activations they
reorder. A runtime without such a layout gets weights near zero (the choice is cross-validated).
"""
from __future__ import annotations

import numpy as np

KINDS = ("conv", "pointwise", "depthwise", "linear")
PADS = (4, 8, 16)
FEATURE_SETS = ("kinds", "kinds+layers", "kinds+blocks")
BLOCKS = (8, 16)


def _pad(c: np.ndarray, multiple: int) -> np.ndarray:
    return -(-c // multiple) * multiple


def layer_terms(table, genomes: list[dict]) -> dict[str, np.ndarray]:
    """Per-layer quantities, each N x L (millions of MACs / activations; "cin" and "cout" the
    channel counts themselves)."""
    cin, cout, groups = table.shapes(genomes)
    kernel = np.asarray(table.kernel, dtype=np.float64)
    out_hw = np.asarray(table.out_hw, dtype=np.float64)
    in_hw = np.asarray(table.in_hw, dtype=np.float64)
    per_group_in = np.maximum(cin // np.maximum(groups, 1), 1)
    terms = {"macs": cout * per_group_in * kernel * out_hw / 1e6,
             "act_out": cout * out_hw / 1e6, "act_in": cin * in_hw / 1e6,
             "off8": (cout % 8 != 0).astype(np.float64), "cin": cin, "cout": cout}
    depthwise = np.asarray([k == "depthwise" for k in table.kind])
    for m in PADS:
        # a depthwise layer has one input channel per group: only its channel count is tiled
        padded_in = np.where(depthwise, 1, _pad(per_group_in, m))
        terms[f"macs_pad{m}"] = _pad(cout, m) * padded_in * kernel * out_hw / 1e6
    return terms


def features(table, genomes: list[dict], feature_set: str = "kinds") -> np.ndarray:
    """N x F feature matrix; columns depend only on the table and the feature set."""
    terms = layer_terms(table, genomes)
    kinds = np.asarray(table.kind)
    columns = []
    for kind in KINDS:
        mask = kinds == kind
        if not mask.any():
            continue
        for name in ("macs", *(f"macs_pad{m}" for m in PADS), "act_out", "act_in", "off8"):
            columns.append(terms[name][:, mask].sum(axis=1))
    if feature_set == "kinds+layers":
        columns.extend(terms["macs_pad8"].T)
        columns.extend(terms["act_out"].T)
    if feature_set == "kinds+blocks":
        columns.extend(_block_columns(terms, kinds))
    return np.column_stack(columns)


def _block_columns(terms, kinds) -> list[np.ndarray]:
    cin, cout = terms["cin"], terms["cout"]
    depthwise, linear = kinds == "depthwise", kinds == "linear"
    act = terms["act_in"] + terms["act_out"]
    columns = []
    for block in BLOCKS:
        on = np.where(depthwise, cout % block == 0, (cin < block) | (cin % block == 0)) & ~linear
        off = ~on & ~linear
        for kind in KINDS[:3]:
            mask = kinds == kind
            if mask.any():
                columns += [(terms["macs"] * off)[:, mask].sum(axis=1),
                            (act * off)[:, mask].sum(axis=1)]
        switch = on[:, 1:] != on[:, :-1]   # layers in forward order: a reorder between them
        columns += [switch.sum(axis=1).astype(np.float64),
                    (switch * terms["act_out"][:, :-1]).sum(axis=1)]
    return columns
