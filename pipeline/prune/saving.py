"""A pruned model on disk, without pickle: `model.json` (how to rebuild it) + `model.safetensors`.

Loading rebuilds the base model (zoo name or module:factory), cuts each group to its saved
channel count (which channels does not matter: the weights are then loaded over them) and
loads the weights strictly.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.atomic import atomic_target, write_text_atomic
from pipeline.errors import UserError

FORMAT_VERSION = 1


def save_pruned(directory, model, base_ref: str, channels: dict, meta: dict, *,
                num_classes: int | None = None, in_channels: int | None = None,
                input_shape=None) -> Path:
    """num_classes / in_channels / input_shape default to meta's values of those keys,
    then to 10, 3 and (1, in_channels, 32, 32)."""
    from safetensors.torch import save_model

    meta = dict(meta or {})
    in_channels = int(in_channels or meta.get("in_channels") or 3)
    record = {
        "format_version": FORMAT_VERSION,
        "base_ref": base_ref,
        "num_classes": int(num_classes or meta.get("num_classes") or 10),
        "in_channels": in_channels,
        "input_shape": [int(v) for v in (input_shape or meta.get("input_shape") or (1, in_channels, 32, 32))],
        "channels": {str(k): int(v) for k, v in channels.items()},
        "meta": meta,
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        text = json.dumps(record, indent=2, sort_keys=True)
    except TypeError as exc:
        raise UserError(f"meta must be JSON-serialisable ({exc})") from None
    # Weights first, record last: a model.json never names weights that are not there yet.
    with atomic_target(directory / "model.safetensors") as tmp:
        # save_model (not save_file) copes with tied weights that share memory
        save_model(model, str(tmp))
    write_text_atomic(directory / "model.json", text + "\n")
    return directory


def read_record(directory) -> dict:
    """model.json, checked field by field (it is data: nothing in it is run or imported)."""
    path = Path(directory) / "model.json"
    if not path.is_file():
        raise UserError(f"'{directory}' holds no model.json; pass a folder written by `edgeprune prune`")
    try:
        record = json.loads(path.read_bytes())
    except ValueError as exc:
        raise UserError(f"'{path}' is not a pruned-model record (not JSON: {exc})") from None
    problem = _record_problem(record)
    if problem:
        raise UserError(f"'{path}' is not a pruned-model record ({problem}); restore it from "
                        "the folder `edgeprune prune` or `run` wrote")
    return record


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _record_problem(record) -> str:
    if not isinstance(record, dict):
        return f"holds a {type(record).__name__}, not an object"
    for key in ("base_ref", "channels", "input_shape"):
        if key not in record:
            return f"no '{key}'"
    if not isinstance(record["base_ref"], str) or not record["base_ref"].strip():
        return "'base_ref' must be a model name"
    channels = record["channels"]
    if not isinstance(channels, dict) or not all(_positive_int(v) for v in channels.values()):
        return "'channels' must map group names to positive channel counts"
    shape = record["input_shape"]
    if not isinstance(shape, list) or len(shape) < 2 or not all(_positive_int(v) for v in shape):
        return "'input_shape' must be a list of positive integers"
    for key in ("num_classes", "in_channels"):
        if key in record and not _positive_int(record[key]):
            return f"'{key}' must be a positive integer"
    if not isinstance(record.get("meta", {}), dict):
        return "'meta' must be an object"
    return ""


def trusted_base_ref(record: dict, model_ref: str | None, where) -> str:
    """The model to rebuild: `model_ref` when the user passed one (--model), else the record's
    base only if it is a zoo (or torchvision) model. A record never makes us import a module
    it names: that would run whatever code the file points at."""
    from pipeline.models.loading import refuse_untrusted_ref

    if model_ref:
        return model_ref
    ref = record["base_ref"]
    refuse_untrusted_ref(ref, None, f"{where}/model.json", "pass")
    return ref   # a zoo name (an unknown one: create_model says which names exist)


def load_pruned(directory, model_ref: str | None = None):
    """(model in eval mode, meta) from a folder written by `save_pruned`.

    `model_ref` is the user's explicit --model; without it only zoo base models are rebuilt."""
    import torch
    from safetensors.torch import load_model

    from pipeline.models import build_model
    from pipeline.prune.apply import apply_genome

    record = read_record(directory)
    weights = Path(directory) / "model.safetensors"
    if not weights.is_file():
        raise UserError(f"'{directory}' holds no model.safetensors")
    ref = trusted_base_ref(record, model_ref, directory)
    base = build_model(ref, record.get("num_classes", 10), record.get("in_channels", 3))
    example = torch.zeros(tuple(record["input_shape"]))
    model = apply_genome(base, record["channels"], example)
    try:
        load_model(model, str(weights), strict=True)
    except Exception as exc:
        if not isinstance(exc, RuntimeError):  # SafetensorError: a corrupt or truncated file
            raise UserError(f"'{weights}' is not a readable safetensors file "
                            f"({type(exc).__name__}: {str(exc).strip()[:120]}); restore it from "
                            "the folder `edgeprune prune` or `run` wrote") from None
        raise UserError(f"weights in '{weights}' do not fit the rebuilt architecture "
                        f"({str(exc).strip().splitlines()[0]}); was the base model changed?") from None
    return model.eval(), dict(record.get("meta", {}))
