"""load_data: check the data config, read the source, plan the splits, build Splits."""
from __future__ import annotations

from pipeline.errors import UserError

# A folder decodes in memory up to this many bytes of float32 pixels; beyond it, lazily.
LAZY_AUTO_BYTES = 1 << 30


def _readers():
    from pipeline.data import cifar, idx, sources

    return {"digits": sources.digits, "mnist": idx.mnist, "fashion-mnist": idx.fashion_mnist,
            "cifar10": cifar.cifar10, "folder": None, "csv": None}


def check_config(cfg) -> None:
    """Every data key a user can get wrong, before anything is read."""
    names = _readers()
    if cfg.name not in names:
        raise UserError(f"unknown data set '{cfg.name}'; use one of {', '.join(names)}")
    if cfg.image_size <= 0 or cfg.image_size > 4096:
        raise UserError(f"data.image_size must be between 1 and 4096 pixels, got {cfg.image_size}")
    if getattr(cfg, "limit", 0) < 0:
        raise UserError(f"data.limit must be >= 0 (0: every image), got {cfg.limit}")
    if str(getattr(cfg, "channels", "auto")) not in ("auto", "1", "3"):
        raise UserError(f"data.channels must be auto, 1 or 3, got {cfg.channels!r}")
    if str(getattr(cfg, "lazy", "auto")).lower() not in ("auto", "true", "false"):
        raise UserError(f"data.lazy must be auto, true or false, got {cfg.lazy!r}")
    for key in ("eval_images", "crop_pad", "val_images"):
        if getattr(cfg, key, 0) < 0:
            raise UserError(f"data.{key} must be >= 0, got {getattr(cfg, key)}")


def load_data(cfg, seed: int, in_channels: int | None = None):
    """cfg: a DataConfig. in_channels: the model's first layer's, for data.channels=auto."""
    check_config(cfg)
    try:
        splits = _load(cfg, seed, in_channels)
        splits.batch_size = int(getattr(cfg, "batch_size", 64))
        return splits
    except OSError as exc:  # unreadable, permission denied, a name too long for the system...
        where = _short(exc.filename or cfg.path)
        raise UserError(f"cannot read the data at '{where}' ({exc.strerror or exc}); check "
                        f"data.path and the files' permissions") from None


def _short(path) -> str:
    text = str(path)
    return text if len(text) <= 120 else text[:60] + "..." + text[-40:]


def _load(cfg, seed: int, in_channels: int | None):
    from pipeline.data.select import describe, plan_splits
    from pipeline.data.splits import build_splits

    limit = getattr(cfg, "limit", 0)
    if cfg.name in ("folder", "csv"):
        return _files(cfg, seed, in_channels)
    raw = _readers()[cfg.name](cfg.path)
    plan = plan_splits({k: y for k, (_, y) in raw.parts.items()}, raw.origin, limit,
                       cfg.val_fraction, cfg.test_fraction, seed, getattr(cfg, "val_images", 0))
    return build_splits(cfg.name, raw, plan, describe(plan), cfg.image_size)


def resolve_channels(setting: str, in_channels: int | None, guess) -> int:
    if str(setting) in ("1", "3"):
        return int(setting)
    if in_channels in (1, 3):
        return in_channels
    return guess()


def _files(cfg, seed: int, in_channels: int | None):
    from pipeline.data import folders
    from pipeline.data.select import describe, plan_splits
    from pipeline.data.splits import build_splits

    table = folders.list_files(cfg.path)
    channels = resolve_channels(getattr(cfg, "channels", "auto"), in_channels,
                                lambda: folders.guess_channels(table))
    parts_y = ({p: table.targets[table.part(p)] for p in ("train", "val", "test")
                if len(table.part(p))} if any(table.split) else {"all": table.targets})
    plan = plan_splits(parts_y, table.origin, getattr(cfg, "limit", 0), cfg.val_fraction,
                       cfg.test_fraction, seed, getattr(cfg, "val_images", 0))
    n_used = sum(len(i) for _, i in plan.indices.values())
    lazy = str(getattr(cfg, "lazy", "auto")).lower()
    if lazy == "true" or (lazy == "auto" and
                          n_used * channels * cfg.image_size ** 2 * 4 > LAZY_AUTO_BYTES):
        from pipeline.data.lazy_splits import lazy_splits

        return lazy_splits(cfg, table, plan, channels, seed)
    # Decode only the planned images; the plan's indices are re-based onto them.
    import numpy as np

    keep = {p: (table.part(src) if src != "all" else np.arange(len(table.paths)))[i]
            for p, (src, i) in plan.indices.items()}
    sub = folders.FileTable([table.paths[i] for p in keep for i in keep[p]],
                            np.concatenate([table.targets[keep[p]] for p in keep]),
                            [p for p in keep for _ in keep[p]], table.labels, table.origin)
    raw = folders.read_all(sub, channels, cfg.image_size)
    from pipeline.data.select import Plan

    local = Plan({p: (p, np.arange(len(keep[p]))) for p in keep}, plan.notes, plan.subset,
                 plan.origin)
    splits = build_splits(cfg.name, raw, local, describe(plan), cfg.image_size)
    splits.test_from_source = plan.indices["test"][0] == "test"
    return splits
