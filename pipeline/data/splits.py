"""A data set as train/val/test tensors, normalised, with its labels and normalisation."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.data.raw import RawData, to_float
from pipeline.data.select import Plan


@dataclass
class Splits:
    """Images are float32 NCHW, already normalised with `mean`/`std` (per channel).

    split_source says where each part came from (the source's own split, or split here) and
    how many images were used; the run summary and report print it. test_from_source is True
    when the test images were set apart by the user or the data set, not by this tool.
    A lazy Splits (data.lazy) holds x_train as a LazyImages (decoded on indexing) and val/test
    as bounded materialised subsets; `loader("train", ...)` streams with worker processes.
    """

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
    split_source: str = ""
    test_from_source: bool = False
    lazy: bool = False
    datasets: dict = field(default_factory=dict)   # lazy only: part -> ImageFiles
    batch_size: int = 64     # data.batch_size: every training loop's batch unless told otherwise

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (1, *self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def describe(self) -> dict:
        """Sizes and origins, as written into the run folder (data.json)."""
        return {"name": self.name, "train": len(self.y_train), "val": len(self.y_val),
                "test": len(self.y_test), "split_source": self.split_source,
                "test_from_source": self.test_from_source, "lazy": self.lazy,
                "input_shape": list(self.input_shape), "labels": list(self.labels)}

    def loader(self, part: str, batch_size: int, shuffle: bool = False, seed: int = 0, limit: int = 0,
               augment: bool = False, workers: int | None = None):
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        if self.lazy and part in self.datasets:
            from pipeline.data.lazy import epoch_loader

            return epoch_loader(self.datasets[part], batch_size, shuffle, seed, limit, augment,
                                workers)
        x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
        if limit:
            x, y = x[:limit], y[:limit]
        gen = torch.Generator().manual_seed(seed)
        return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=gen)


def build_splits(name: str, raw: RawData, plan: Plan, source: str, image_size: int) -> Splits:
    """Materialise a plan: resize to image_size, normalise by the train part's statistics."""
    import torch
    import torch.nn.functional as F

    tensors = {}
    for part, (src, idx) in plan.indices.items():
        x, y = raw.parts[src]
        # clone(contiguous_format): canonical strides. numpy can hand a 1-channel batch the
        # strides of an (ambiguous) channels-last tensor, and torch 2.13's single-threaded conv
        # backward then corrupted the heap (seen as aborts in the Taylor criterion's backward).
        xt = torch.as_tensor(np.ascontiguousarray(to_float(x[idx])), dtype=torch.float32) \
            .clone(memory_format=torch.contiguous_format)
        if xt.shape[-1] != image_size or xt.shape[-2] != image_size:
            xt = F.interpolate(xt, size=(image_size, image_size), mode="bilinear",
                               align_corners=False)
        tensors[part] = (xt, torch.as_tensor(y[idx], dtype=torch.long))
    x_train = tensors["train"][0]
    mean = x_train.mean(dim=(0, 2, 3))
    std = x_train.std(dim=(0, 2, 3)).clamp_min(1e-6)

    def norm(x):
        return (x - mean[None, :, None, None]) / std[None, :, None, None]

    return Splits(
        name=name,
        x_train=norm(tensors["train"][0]), y_train=tensors["train"][1],
        x_val=norm(tensors["val"][0]), y_val=tensors["val"][1],
        x_test=norm(tensors["test"][0]), y_test=tensors["test"][1],
        mean=[float(m) for m in mean], std=[float(s) for s in std], labels=raw.labels,
        split_source=source, test_from_source=plan.indices["test"][0] == "test",
    )
