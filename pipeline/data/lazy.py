"""Image files read as they are needed, for folders too large to hold decoded in memory.

ImageFiles is a torch Dataset (paths, not pixels); `epoch_loader` streams it through a
DataLoader with worker processes. Train-time augmentation (random crop from a padded image,
horizontal flip) draws from a generator seeded by (seed, epoch, index), so a sample's
augmentation is the same whatever the number of workers. LazyImages lets code written for
tensors (`x[idx]`, `x[:n]`, `.shape`, `len`) index the files directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.data.folders import decode
from pipeline.errors import UserError


@dataclass
class Augment:
    crop_pad: int = 0     # random crop of the image padded by this many pixels (0: off)
    flip: bool = False    # random horizontal flip (off by default: not label-safe for digits)


class ImageFiles:
    """A Dataset of image files: item i is (normalised float32 C,H,W tensor, class index)."""

    def __init__(self, paths, targets, channels: int, size: int, mean, std,
                 augment: Augment | None = None):
        self.paths = list(paths)
        self.targets = np.asarray(targets, dtype=np.int64)
        self.channels, self.size = channels, size
        self.mean = np.asarray(mean, dtype=np.float32)[:, None, None]
        self.std = np.asarray(std, dtype=np.float32)[:, None, None]
        self.augment = augment or Augment()
        self.augmenting = False
        self.epoch_seed = 0

    def __len__(self) -> int:
        return len(self.paths)

    def raw(self, i: int) -> np.ndarray:
        return decode(self.paths[i], self.channels, self.size)

    def __getitem__(self, i: int):
        import torch

        x = self.raw(i)
        if self.augmenting:
            x = augment(x, self.augment, np.random.default_rng((self.epoch_seed, int(i))))
        x = (x - self.mean) / self.std
        return torch.from_numpy(np.ascontiguousarray(x)), int(self.targets[i])


def augment(x: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    if aug.crop_pad > 0:
        p = aug.crop_pad
        padded = np.pad(x, ((0, 0), (p, p), (p, p)), mode="edge")
        oy, ox = rng.integers(0, 2 * p + 1, size=2)
        x = padded[:, oy:oy + x.shape[1], ox:ox + x.shape[2]]
    if aug.flip and rng.random() < 0.5:
        x = x[:, :, ::-1]
    return x


class _EpochLoader:
    """Each iteration is one epoch with its own shuffle and augmentation seed."""

    def __init__(self, ds: ImageFiles, indices, batch_size: int, shuffle: bool, seed: int,
                 augmenting: bool, workers: int):
        self.ds, self.indices, self.batch_size = ds, indices, batch_size
        self.shuffle, self.seed, self.augmenting, self.workers = shuffle, seed, augmenting, workers
        self.epoch = 0

    def __len__(self) -> int:
        return (len(self.indices) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        import torch
        from torch.utils.data import DataLoader, Subset

        self.ds.augmenting, self.ds.epoch_seed = self.augmenting, self.seed * 100_003 + self.epoch
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        self.epoch += 1
        loader = DataLoader(Subset(self.ds, self.indices), batch_size=self.batch_size,
                            shuffle=self.shuffle, generator=gen, num_workers=self.workers,
                            persistent_workers=False)
        try:
            yield from loader
        except UserError as exc:
            # a worker's error comes back wrapped in its traceback text: keep the one line
            last = str(exc).strip().splitlines()[-1]
            raise UserError(last.split("UserError: ", 1)[-1]) from None


def epoch_loader(ds: ImageFiles, batch_size: int, shuffle: bool = False, seed: int = 0,
                 limit: int = 0, augment: bool = False, workers: int | None = None):
    workers = default_workers() if workers is None else workers
    indices = list(range(min(limit, len(ds)) if limit else len(ds)))
    return _EpochLoader(ds, indices, batch_size, shuffle, seed, augment, workers)


def default_workers() -> int:
    import os

    return min(4, max(0, (os.cpu_count() or 1) - 1))


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=max(1, default_workers()), thread_name_prefix="decode")
    return _POOL


class LazyImages:
    """Tensor-like view of ImageFiles without augmentation: decodes only what is indexed."""

    def __init__(self, ds: ImageFiles):
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    @property
    def shape(self):
        import torch

        return torch.Size((len(self.ds), self.ds.channels, self.ds.size, self.ds.size))

    def _one(self, i: int) -> np.ndarray:
        return (self.ds.raw(i) - self.ds.mean) / self.ds.std

    def __getitem__(self, key):
        import torch

        if isinstance(key, (int, np.integer)):
            return torch.from_numpy(self._one(int(key)))
        idx = range(len(self.ds))[key] if isinstance(key, slice) else np.asarray(key).reshape(-1)
        if len(idx) == 0:
            return torch.empty((0, *self.shape[1:]))
        # Filled in place: stacking a list would hold every image twice at the peak.
        out = np.empty((len(idx), *self.shape[1:]), dtype=np.float32)

        def fill(k: int) -> None:
            out[k] = self._one(int(idx[k]))

        if len(idx) < 8:
            for k in range(len(idx)):
                fill(k)
        else:  # Pillow releases the GIL while decoding and resizing: threads overlap the files
            list(_pool().map(fill, range(len(idx))))
        return torch.from_numpy(out)

    def batches(self, order, batch_size: int, workers: int | None = None):
        """x[order[i:i + batch_size]] for each i, decoded ahead by worker processes.

        The same tensors as indexing batch by batch, in the same order, so a training loop
        may switch to it (`if hasattr(x, "batches")`) without changing its results.
        """
        from torch.utils.data import DataLoader

        order = [int(i) for i in order]
        chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        workers = default_workers() if workers is None else workers
        loader = DataLoader(_Raw(self), batch_sampler=chunks, num_workers=workers)
        try:
            yield from (x for x, _ in loader)
        except UserError as exc:
            last = str(exc).strip().splitlines()[-1]
            raise UserError(last.split("UserError: ", 1)[-1]) from None

    def numpy(self) -> np.ndarray:
        """Every image decoded: only for code that has not moved to loaders yet."""
        return self[:].numpy()


class _Raw:
    """Item i of a LazyImages (no augmentation) as a Dataset for batches()."""

    def __init__(self, view: LazyImages):
        self.view = view

    def __len__(self) -> int:
        return len(self.view)

    def __getitem__(self, i: int):
        import torch

        return torch.from_numpy(self.view._one(int(i))), 0
