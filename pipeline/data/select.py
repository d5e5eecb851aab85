"""Which images go where: the stratified seeded subset (data.limit) and the carving of the
parts a source does not provide. Works on labels only and returns indices, so the same plan
serves decoded arrays and lazily read files.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.data.raw import PARTS
from pipeline.errors import UserError


def stratified_take(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k indices of y keeping each class's share (largest remainders), sorted; all if k >= len."""
    n = len(y)
    if k >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * k / n
    take = np.floor(exact).astype(int)
    order = np.argsort(-(exact - take), kind="stable")
    take[order[:k - take.sum()]] += 1
    picked = [rng.permutation(np.flatnonzero(y == c))[:t] for c, t in zip(classes, take)]
    return np.sort(np.concatenate(picked))


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rest, carved): `fraction` of y's indices carved out, stratified (scikit-learn)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    if len(y) < 2:
        raise UserError(f"{len(y)} image(s) cannot be split into train, val and test; "
                        f"give the data set more images (or a larger data.limit)")
    counts = np.unique(y, return_counts=True)[1]
    n_carved = int(np.ceil(fraction * len(y)))
    # Stratifying needs a sample of every class on both sides; tiny sets split at random.
    stratify = counts.min() >= 2 and min(n_carved, len(y) - n_carved) >= len(counts)
    strat = y if stratify else None
    rest, carved = train_test_split(idx, test_size=fraction, random_state=seed, stratify=strat)
    return rest, carved


@dataclass
class Plan:
    """indices[part] index into the named source part; notes say, per part, where it came from."""

    indices: dict[str, tuple[str, np.ndarray]]
    notes: dict[str, str]
    subset: str
    origin: str = ""


def plan_splits(parts_y: dict[str, np.ndarray], origin: str, limit: int, val_fraction: float,
                test_fraction: float, seed: int, val_images: int = 0) -> Plan:
    """parts_y: labels of "all", or of some of train/val/test (the source's own split).
    val_images > 0 (with a limit): validation is that many images the subset left unused."""
    if "all" not in parts_y and len(parts_y.get("train", ())) == 0:
        raise UserError(f"{origin} has no training images; put the images to train on in its "
                        f"train part")
    if val_images < 0:
        raise UserError(f"data.val_images must be >= 0 (0: validation carved from the subset), "
                        f"got {val_images}")
    if val_images and not limit:
        raise UserError("data.val_images draws validation from the images data.limit leaves "
                        "unused; set data.limit too, or data.val_images=0")
    plan = _plan(parts_y, origin, limit, val_fraction, test_fraction, seed, val_images)
    empty = [p for p in PARTS if len(plan.indices[p][1]) == 0]
    if empty:
        raise UserError(f"the {empty[0]} split would hold no images ({plan.subset}); give more "
                        f"images or a larger data.limit")
    return plan


def _plan(parts_y, origin, limit, val_fraction, test_fraction, seed, val_images=0) -> Plan:
    total = sum(len(y) for y in parts_y.values())
    chosen = {}
    for name, y in parts_y.items():
        k = total if not limit else round(limit * len(y) / total)
        chosen[name] = stratified_take(y, k, seed)
    used = sum(len(i) for i in chosen.values())
    subset = (f"a stratified subset of {used:,} of {total:,} images (data.limit={limit}, seed {seed})"
              if used < total else f"all {total:,} images")
    if val_images:
        return _plan_unused_val(parts_y, chosen, origin, subset, test_fraction, seed, val_images)

    if set(parts_y) == {"all"} or set(parts_y) == {"train"}:
        name = next(iter(parts_y))
        y = parts_y[name][chosen[name]]
        # The same two sklearn calls as before this module existed, so a seed keeps its split.
        rest, test = stratified_split(y, test_fraction, seed)
        tr, va = stratified_split(y[rest], val_fraction / (1.0 - test_fraction), seed)
        ind = {"train": (name, chosen[name][rest[tr]]), "val": (name, chosen[name][rest[va]]),
               "test": (name, chosen[name][test])}
        return Plan(ind, {"train/val/test": f"split here (stratified, seed {seed})"}, subset, origin)

    ind = {p: (p, chosen[p]) for p in PARTS if p in parts_y}
    notes = {p: "as given" for p in ind}
    # A source with train and one of val/test: the other is carved from train, taking the
    # share of it that data.val_fraction / data.test_fraction give when this tool splits.
    for p, other in (("val", "test"), ("test", "val")):
        if p in ind:
            continue
        frac = {"val": val_fraction, "test": test_fraction}
        share = frac[p] / (1.0 - frac[other])
        src, idx = ind["train"]
        rest, carved = stratified_split(parts_y[src][idx], share, seed)
        ind["train"], ind[p] = (src, idx[rest]), (src, idx[carved])
        notes["train"] = f"as given, less the {p} carved from it"
        notes[p] = f"carved from train ({100 * share:.1f}%, stratified, seed {seed})"
    return Plan(ind, {p: notes[p] for p in PARTS}, subset, origin)


def _plan_unused_val(parts_y, chosen, origin, subset, test_fraction, seed, n) -> Plan:
    """data.val_images: the subset trains and tests, and validation is `n` images it left
    unused (the source's val part, else its train part, else all): a subset keeps training
    affordable, while judging costs seconds, and a 1-point line needs thousands of images."""
    pool = next(p for p in ("val", "train", "all") if p in parts_y)
    unused = np.setdiff1d(np.arange(len(parts_y[pool])), chosen[pool])
    if len(unused) < n:
        raise UserError(f"data.val_images={n}, but the subset leaves only {len(unused):,} "
                        f"images of {origin}'s {pool} part unused; lower data.val_images or "
                        f"data.limit")
    val = (pool, unused[stratified_take(parts_y[pool][unused], n, seed + 1)])
    note = f"{n:,} images of the {pool} part the subset left unused (stratified, seed {seed + 1})"
    if "test" in parts_y:
        ind = {"train": ("train", chosen["train"]), "val": val, "test": ("test", chosen["test"])}
        notes = {"train": "as given", "val": note, "test": "as given"}
    else:
        src = "train" if "train" in parts_y else "all"
        rest, test = stratified_split(parts_y[src][chosen[src]], test_fraction, seed)
        ind = {"train": (src, chosen[src][rest]), "val": val, "test": (src, chosen[src][test])}
        notes = {"train": "the subset less the test carved from it", "val": note,
                 "test": f"carved from the subset ({100 * test_fraction:.1f}%, stratified, "
                         f"seed {seed})"}
    return Plan(ind, notes, subset, origin)


def describe(plan: Plan) -> str:
    """One line, e.g. "Fashion-MNIST's official train/test split: train as given, less the
    val carved from it; val carved from train (18.7%, stratified, seed 0); test as given;
    all 70,000 images"."""
    parts = "; ".join(f"{p} {note}" for p, note in plan.notes.items())
    return f"{plan.origin}: {parts}; {plan.subset}"
