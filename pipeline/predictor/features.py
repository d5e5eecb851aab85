"""Architecture features for the latency regression, from layer shapes (numpy, vectorised).

Latency on a CPU is close to a sum over layers, and each layer's cost follows its work rounded
up to the kernel's SIMD tile: 63 channels can cost more than 64. So the features are, per layer
kind (conv, pointwise, depthwise, linear): MACs, MACs with channel counts padded to 4, 8 and
16, activations written and read, and how many layers sit off a multiple of 8; and how many
layers have fewer than 2, 4 or 8 channels (a cost floor under the kernel's tile). Optionally the
same padded MACs per layer ("layers"): a per-layer cost the regression learns from end-to-end
measurements, like a lookup table that already includes fusion and memory effects.

"blocks": runtimes that compute in a channel-blocked layout (ONNX Runtime's NCHWc on x86: block
8 with AVX2, 16 with AVX-512) decide per layer whether it runs blocked, and the two kinds of
kernel cost very differently. What ONNX Runtime 1.31 did with 2,500 pruned convs (its per-node
profile and optimised graphs of 100 pruned MobileNetV2s, AVX-512): a grouped (depthwise) conv
runs blocked when its channels are a multiple of 4, any other conv when its input channels are
a multiple of 4 or fewer than the block, with no exception; blocked kernels compute on channels
padded to the block. A plain depthwise conv costs 2-10x its blocked twin (mean per layer),
mostly a fixed cost per channel (one call per group), so a pruned model can run twice as slow as
the unpruned one; each switch between the layouts reorders the activations. So, per block size
and per alignment (4, and the block itself, for runtimes that need it): which layers run
blocked, then per kernel family its MACs (padded where blocked), layer count and activations,
the plain grouped convs' channel count, and the reorders into and out of the blocked layout
with the activations they move. A runtime without such a layout gets weights near zero (the
choice is cross-validated).
"""
from __future__ import annotations

import numpy as np

KINDS = ("conv", "pointwise", "depthwise", "linear")
PADS = (4, 8, 16)
FEATURE_SETS = ("kinds", "kinds+layers", "kinds+blocks")
BLOCKS = (8, 16)
ALIGN = 4
SMALL = (2, 4, 8)   # channel counts under which a layer is counted as small (_small_columns)


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
             "off8": (cout % 8 != 0).astype(np.float64), "cin": cin, "cout": cout,
             "groups": groups, "kernel": kernel, "out_hw": out_hw}
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
    columns.extend(_small_columns(terms))
    if feature_set == "kinds+layers":
        columns.extend(terms["macs_pad8"].T)
        columns.extend(terms["act_out"].T)
    if feature_set == "kinds+blocks":
        columns.extend(_block_columns(terms, kinds))
    return np.column_stack(columns)


def _small_columns(terms) -> list[np.ndarray]:
    """How many layers have fewer than 2, 4 or 8 output (and input) channels. Below a
    kernel's channel tile a layer's cost stops falling with its MACs, and where that floor
    lies is the runtime's: ResNet-20 on LiteRT measured 13% faster than a linear fit of the
    other features predicted below a tenth of the unpruned latency and 6% slower between a
    tenth and a fifth (the one-channel corner, where the search's fastest members sit). With
    these counts its cross-validated error fell from 4.1% to 2.3% on the same 200
    measurements (median error on 100 fresh ones 2.6% -> 1.6%)."""
    return [(terms[side] < k).sum(axis=1).astype(np.float64)
            for k in SMALL for side in ("cout", "cin")]


def runs_blocked(cin, cout, groups, kinds, block: int, align: int = ALIGN) -> np.ndarray:
    """N x L booleans: the layers a channel-blocked runtime runs in its blocked layout (the rule
    in this module's docstring; tests/predictor/test_ort_layout.py checks it against ONNX
    Runtime's own optimised graphs)."""
    grouped = groups > 1
    return np.where(grouped, cout % align == 0, (cin < block) | (cin % align == 0)) & \
        (np.asarray(kinds) != "linear")


def _block_columns(terms, kinds) -> list[np.ndarray]:
    """Per block size and alignment: simulate which layers run blocked, then the cost terms
    of each kernel family (blocked ones compute on channels padded to the block)."""
    cin, cout, groups = terms["cin"], terms["cout"], terms["groups"]
    kernel, out_hw = terms["kernel"], terms["out_hw"]
    grouped = (groups > 1) & (kinds != "linear")
    dense = ~grouped & (kinds != "linear")
    act_out = cout * out_hw / 1e6
    columns = []
    for block in BLOCKS:
        padded_out = _pad(cout, block)
        padded_in = np.where(cin < block, cin, _pad(cin, block))
        for align in (ALIGN, block):
            on = runs_blocked(cin, cout, groups, kinds, block, align)
            columns += [
                (padded_out * padded_in * kernel * out_hw / 1e6 * (on & dense)).sum(axis=1),
                (on & dense).sum(axis=1).astype(np.float64),
                (padded_out * kernel * out_hw / 1e6 * (on & grouped)).sum(axis=1),
                (padded_out * out_hw / 1e6 * on).sum(axis=1),
                (terms["macs"] * (~on & dense)).sum(axis=1),
                (~on & dense).sum(axis=1).astype(np.float64),
                (act_out * ~on).sum(axis=1),
                # a plain grouped conv pays a call per group: its channel count is a cost
                (cout * (~on & grouped)).sum(axis=1).astype(np.float64),
                (terms["macs"] * (~on & grouped)).sum(axis=1)]
            # reorders between consecutive layers (forward order): out of the blocked layout,
            # and into it (a layer with fewer input channels than the block reads plain input)
            to_plain = on[:, :-1] & ~on[:, 1:]
            to_blocked = ~on[:, :-1] & on[:, 1:] & (cin[:, 1:] >= block)
            columns += [to_plain.sum(axis=1).astype(np.float64),
                        (to_plain * act_out[:, :-1]).sum(axis=1),
                        to_blocked.sum(axis=1).astype(np.float64),
                        (to_blocked * act_out[:, :-1]).sum(axis=1)]
    return columns
