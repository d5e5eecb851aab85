"""Image files the user has: class folders, a train/ val/ test/ layout, or a CSV of
path,label[,split].

Listing is separate from decoding so the lazy reader (lazy.py) can keep only paths in memory.
Decoding uses Pillow: converted to grey (1 channel) or RGB (3), resized bilinearly to
image_size x image_size (aspect ratio not kept), scaled to [0, 1]. A file Pillow cannot
decode is one UserError naming it.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.data.raw import PARTS, RawData
from pipeline.errors import UserError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


@dataclass
class FileTable:
    """paths[i] has class index targets[i]; split[i] is train/val/test, or "" when unsplit."""

    paths: list[str]
    targets: np.ndarray
    split: list[str]
    labels: list[str]
    origin: str

    def part(self, name: str) -> np.ndarray:
        return np.asarray([i for i, s in enumerate(self.split) if s == name], dtype=np.int64)


def need_dir(path: str, what: str) -> Path:
    if not path:
        raise UserError(f"data.path is empty; set data.path=DIR to the folder holding your {what}")
    p = Path(path)
    if not p.is_dir():
        raise UserError(f"data.path '{p}' is not a folder; point it at your {what}")
    return p


def _class_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)


def list_files(path: str) -> FileTable:
    """The files of a folder (either layout) or a CSV, with their split when the user gave one."""
    if path.lower().endswith(".csv"):
        return _list_csv(Path(path))
    root = need_dir(path, "images, one sub-folder per class (or train/ val/ test/ holding those)")
    subdirs = _class_dirs(root)
    given = [p for p in PARTS if p in subdirs]
    if "train" in given and len(given) >= 2:
        labels = sorted({c for p in given for c in _class_dirs(root / p)})
        index = {c: i for i, c in enumerate(labels)}
        paths, targets, split = [], [], []
        for part in given:
            for cls in _class_dirs(root / part):
                for f in _images_in(root / part / cls):
                    paths.append(str(f)), targets.append(index[cls]), split.append(part)
        origin = f"your folder's own {'/'.join(given)} split"
    else:
        labels = subdirs
        paths, targets = [], []
        for i, cls in enumerate(labels):
            for f in _images_in(root / cls):
                paths.append(str(f)), targets.append(i)
        split = [""] * len(paths)
        origin = "your folder (no train/ val/ test/ sub-folders)"
    if not labels:
        raise UserError(f"'{root}' has no class sub-folders; put each class's images in its own "
                        f"folder (or in train/CLASS, val/CLASS, test/CLASS)")
    if not paths:
        raise UserError(f"no images ({', '.join(SUFFIXES)}) found under '{root}'")
    return FileTable(paths, np.asarray(targets, dtype=np.int64), split, labels, origin)


def _list_csv(csv_path: Path) -> FileTable:
    if not csv_path.is_file():
        raise UserError(f"data.path '{csv_path}' not found; pass a CSV of path,label[,split]")
    try:
        rows = list(csv.reader(csv_path.read_text(encoding="utf-8").splitlines()))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"'{csv_path}' is not a UTF-8 CSV ({exc}); write it as "
                        f"path,label[,split]") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["path", "label"]:
        rows = rows[1:]
    if not rows:
        raise UserError(f"'{csv_path}' has no rows; write one line per image: path,label[,split]")
    width = len(rows[0])
    paths, names, split = [], [], []
    for n, row in enumerate(rows, start=1):
        if len(row) != width or width not in (2, 3):
            raise UserError(f"'{csv_path}' row {n} has {len(row)} fields; every row must be "
                            f"path,label or every row path,label,split")
        f = Path(row[0].strip())
        f = f if f.is_absolute() else csv_path.parent / f
        if not f.is_file():
            raise UserError(f"'{csv_path}' row {n}: image '{f}' not found (relative paths are "
                            f"read from the CSV's folder)")
        part = row[2].strip().lower() if width == 3 else ""
        if width == 3 and part not in PARTS:
            raise UserError(f"'{csv_path}' row {n}: split '{row[2]}' must be train, val or test")
        paths.append(str(f)), names.append(row[1].strip()), split.append(part)
    labels = sorted(set(names))
    index = {c: i for i, c in enumerate(labels)}
    targets = np.asarray([index[c] for c in names], dtype=np.int64)
    given = [p for p in PARTS if p in split]
    if width == 3 and "train" not in given:
        raise UserError(f"'{csv_path}' has a split column but no 'train' rows; mark the images "
                        f"to train on")
    origin = (f"your CSV's own {'/'.join(given)} split" if width == 3
              else "your CSV (no split column)")
    return FileTable(paths, targets, split, labels, origin)


def guess_channels(table: FileTable, sample: int = 200) -> int:
    """1 when every sampled image is grey, else 3 (reads headers only)."""
    from PIL import Image

    step = max(1, len(table.paths) // sample)
    for p in table.paths[::step]:
        try:
            with Image.open(p) as img:
                if img.mode not in _GREY_MODES:
                    return 3
        except Exception:
            return 3   # decode() names the broken file when it gets there
    return 1


def decode(path: str, channels: int, size: int) -> np.ndarray:
    """One image as float32 C,H,W in [0, 1]."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            img = img.convert("L" if channels == 1 else "RGB")
            if img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except Exception as exc:  # Pillow raises several types for damaged or foreign files
        raise UserError(f"image '{path}' cannot be decoded ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'damaged'}); replace or "
                        f"remove it") from None
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def verify(paths: list[str]) -> None:
    """Cheap integrity check of every file before any training (the lazy reader decodes later)."""
    from PIL import Image

    for p in paths:
        try:
            with Image.open(p) as img:
                img.verify()
        except Exception as exc:
            raise UserError(f"image '{p}' is damaged ({type(exc).__name__}); replace or remove "
                            f"it") from None


def read_all(table: FileTable, channels: int, size: int) -> RawData:
    """Decode every file (the in-memory reader); parts follow the table's split column."""
    x = np.empty((len(table.paths), channels, size, size), dtype=np.float32)
    for i, p in enumerate(table.paths):   # filled in place: a list then np.stack doubles the peak
        x[i] = decode(p, channels, size)
    if not any(table.split):
        return RawData(table.labels, {"all": (x, table.targets)}, table.origin)
    parts = {}
    for name in PARTS:
        idx = table.part(name)
        if len(idx):
            parts[name] = (x[idx], table.targets[idx])
    return RawData(table.labels, parts, table.origin)
