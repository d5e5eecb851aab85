"""A data set as train/val/test tensors, normalised, with its labels and normalisation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.errors import UserError


@dataclass
class Splits:
    """Images are float32 NCHW, already normalised with `mean`/`std` (per channel)."""

    name: str
    x_train: "torch.Tensor"
    y_train: "torch.Tensor"
    x_val: "torch.Tensor"
    y_val: "torch.Tensor"
    x_test: "torch.Tensor"
    y_test: "torch.Tensor"
    mean: list[float]
    std: list[float]
    labels: list[str]

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (1, *self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def loader(self, part: str, batch_size: int, shuffle: bool = False, seed: int = 0, limit: int = 0):
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
        if limit:
            x, y = x[:limit], y[:limit]
        gen = torch.Generator().manual_seed(seed)
        return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=gen)


def split_arrays(images: np.ndarray, targets: np.ndarray, val_fraction: float, test_fraction: float,
                 seed: int):
    """Stratified train/val/test split with a fixed seed (scikit-learn)."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        images, targets, test_size=test_fraction, random_state=seed, stratify=targets)
    val_of_rest = val_fraction / (1.0 - test_fraction)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_of_rest, random_state=seed, stratify=y_rest)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def make_splits(name: str, images: np.ndarray, targets: np.ndarray, labels: list[str],
                image_size: int, val_fraction: float, test_fraction: float, seed: int) -> Splits:
    """images: N,C,H,W float in [0, 1]; resized to image_size, normalised by train statistics."""
    import torch
    import torch.nn.functional as F

    parts = split_arrays(images, targets, val_fraction, test_fraction, seed)
    tensors = []
    for x, y in parts:
        xt = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
        if xt.shape[-1] != image_size or xt.shape[-2] != image_size:
            xt = F.interpolate(xt, size=(image_size, image_size), mode="bilinear", align_corners=False)
        tensors.append((xt, torch.as_tensor(y, dtype=torch.long)))
    x_train = tensors[0][0]
    mean = x_train.mean(dim=(0, 2, 3))
    std = x_train.std(dim=(0, 2, 3)).clamp_min(1e-6)

    def norm(x):
        return (x - mean[None, :, None, None]) / std[None, :, None, None]

    return Splits(
        name=name,
        x_train=norm(tensors[0][0]), y_train=tensors[0][1],
        x_val=norm(tensors[1][0]), y_val=tensors[1][1],
        x_test=norm(tensors[2][0]), y_test=tensors[2][1],
        mean=[float(m) for m in mean], std=[float(s) for s in std], labels=labels,
    )


def load_data(cfg, seed: int) -> Splits:
    """cfg: a DataConfig."""
    from pipeline.data import sources

    loaders = {
        "digits": sources.digits,
        "mnist": sources.mnist,
        "cifar10": sources.cifar10,
        "folder": sources.image_folder,
    }
    if cfg.name not in loaders:
        raise UserError(f"unknown data set '{cfg.name}'; use one of {', '.join(loaders)}")
    images, targets, labels = loaders[cfg.name](cfg.path)
    return make_splits(cfg.name, images, targets, labels, cfg.image_size,
                       cfg.val_fraction, cfg.test_fraction, seed)
