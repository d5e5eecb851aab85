"""A Splits whose training images stay on disk: x_train is a LazyImages, val and test are
materialised up to data.eval_images each (a stratified seeded subset, stated in split_source).
Normalisation comes from a seeded sample of the training files.
"""
from __future__ import annotations

import numpy as np

from pipeline.data.lazy import Augment, ImageFiles, LazyImages
from pipeline.data.select import describe, stratified_take

STATS_SAMPLE = 1000   # training images decoded to estimate mean/std


def lazy_splits(cfg, table, plan, channels: int, seed: int):
    import torch

    from pipeline.data import folders
    from pipeline.data.splits import Splits

    size = cfg.image_size
    files = {}
    for part, (src, idx) in plan.indices.items():
        base = table.part(src) if src != "all" else np.arange(len(table.paths))
        files[part] = base[idx]
    folders.verify([table.paths[i] for i in np.concatenate(list(files.values()))])

    train = files["train"]
    sample = train[stratified_take(table.targets[train], STATS_SAMPLE, seed)]
    # Running sums, one image at a time: 1,000 images at 224x224 would be 600 MB stacked.
    total, total_sq = np.zeros(channels), np.zeros(channels)
    for i in sample:
        img = folders.decode(table.paths[i], channels, size).astype(np.float64)
        total += img.sum(axis=(1, 2))
        total_sq += (img ** 2).sum(axis=(1, 2))
    count = len(sample) * size * size
    mean = total / count
    std = np.maximum(np.sqrt(np.maximum(total_sq / count - mean ** 2, 0.0)), 1e-6)

    aug = Augment(crop_pad=getattr(cfg, "crop_pad", 0), flip=getattr(cfg, "flip", False))
    datasets = {p: ImageFiles([table.paths[i] for i in files[p]], table.targets[files[p]],
                              channels, size, mean, std, aug if p == "train" else None)
                for p in files}
    eval_n = getattr(cfg, "eval_images", 2000)
    evals, notes = {}, []
    for p in ("val", "test"):
        ds = datasets[p]
        keep = stratified_take(ds.targets, eval_n, seed) if eval_n else np.arange(len(ds))
        view = LazyImages(ds)
        evals[p] = (view[keep], torch.as_tensor(ds.targets[keep], dtype=torch.long))
        if len(keep) < len(ds):
            notes.append(f"{p} accuracy on a stratified {len(keep):,} of its {len(ds):,} images "
                         f"(data.eval_images)")
    source = describe(plan) + "".join(f"; {n}" for n in notes) + "; read lazily from disk"
    return Splits(
        name=cfg.name, x_train=LazyImages(datasets["train"]),
        y_train=torch.as_tensor(datasets["train"].targets, dtype=torch.long),
        x_val=evals["val"][0], y_val=evals["val"][1],
        x_test=evals["test"][0], y_test=evals["test"][1],
        mean=[float(m) for m in mean], std=[float(s) for s in std], labels=table.labels,
        split_source=source, test_from_source=plan.indices["test"][0] == "test",
        lazy=True, datasets=datasets)
