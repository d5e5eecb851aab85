"""The trained model to prune: the user's weights, or a baseline trained once and cached."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from pipeline.errors import UserError
from pipeline.paths import cache_dir
from pipeline.progress import status


def _cache_key(cfg) -> str:
    ident = {"model": cfg.model.name, "data": asdict(cfg.data), "train": asdict(cfg.train),
             "seed": cfg.seed, "version": 1}
    ident["train"].pop("cache_dir", None)
    for key in ("device", "amp"):  # where it trains, not what: cached baselines stay valid
        ident["train"].pop(key, None)
    return hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def get_baseline(cfg, splits):
    """Returns (model in eval mode, info dict with accuracy_val, accuracy_test, source)."""
    import torch
    from safetensors.torch import load_file, save_file

    from pipeline.models import build_model, check_input_shape, load_weights
    from pipeline.recover import evaluate, train_baseline

    in_channels = splits.input_shape[1]
    model = build_model(cfg.model.name, num_classes=splits.num_classes, in_channels=in_channels)
    shape = tuple(cfg.model.input_shape) or splits.input_shape
    if tuple(shape) != tuple(splits.input_shape):
        raise UserError(f"model.input_shape {list(shape)} does not match the data "
                        f"{list(splits.input_shape)}; change data.image_size or model.input_shape")
    check_input_shape(model, shape)
    with torch.no_grad():
        out = model.eval()(torch.zeros(shape))
    if out.ndim != 2 or out.shape[1] != splits.num_classes:
        raise UserError(f"model '{cfg.model.name}' outputs shape {tuple(out.shape)}, but the data "
                        f"set has {splits.num_classes} classes; make the factory return a "
                        f"classifier with {splits.num_classes} outputs")

    if cfg.model.weights:
        load_weights(model, cfg.model.weights)
        source = cfg.model.weights
    else:
        folder = Path(cfg.train.cache_dir) if cfg.train.cache_dir else cache_dir()
        path = folder / "baselines" / f"{_cache_key(cfg)}.safetensors"
        if path.is_file():
            model.load_state_dict(load_file(str(path)))
            status(f"baseline: reusing trained {cfg.model.name} from {path}")
            source = str(path)
        else:
            status(f"baseline: training {cfg.model.name} for {cfg.train.epochs} epochs")
            model, _ = train_baseline(model, splits, cfg.train, cfg.seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
            tmp.replace(path)
            source = str(path)
    model.eval()
    info = {"accuracy_val": evaluate(model, splits.x_val, splits.y_val),
            "accuracy_test": evaluate(model, splits.x_test, splits.y_test),
            "source": source}
    return model, info
