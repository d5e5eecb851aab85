"""Peak memory of a run's data path on an image folder too large to decode into memory
(issue 14: a 20,000-image folder at 96x96 must stay under 2 GB), with the wall time per epoch.

    python -m bench.lazy_memory                 # 20,000 images, 96x96, one training epoch
    python -m bench.lazy_memory --smoke         # 600 images, seconds

The folder (10 classes of synthetic 96x96 RGB PNGs, written once under the bench's work folder)
is read with data.lazy=true. A child process does what a run does with it: load_data, one
epoch of baseline training (resnet20-tiny through the recover loop, which indexes LazyImages;
by default 60 steps timed and scaled to the epoch: a whole one takes minutes on 2 cores), validation
and test accuracy on the bounded eval subsets, then one epoch streamed by Splits.loader with
worker processes. The child's peak RSS (and its workers') is read from getrusage, and the whole
tree's peak PSS (the child and its workers at once, shared pages split) is sampled from /proc.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import work_dir, write_result
from bench.memory import watch
from pipeline.progress import status


def make_folder(root: Path, n: int, size: int, classes: int = 10) -> Path:
    """n PNGs: a class-coloured gradient plus noise (learnable, compresses like photos do)."""
    import numpy as np
    from PIL import Image

    done = root / f".complete-{n}-{size}"
    if done.is_file():
        return root
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    for i in range(n):
        c = i % classes
        (root / f"c{c}").mkdir(parents=True, exist_ok=True)
        hue = np.array([(c * 37) % 255, (c * 91) % 255, (c * 53) % 255], dtype=np.float32)
        img = hue * (0.5 + 0.5 * ramp[:, None, None]) + rng.normal(0, 20, (size, size, 3))
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(root / f"c{c}" / f"{i}.png")
    done.write_text("ok")
    return root


def child(folder: str, size: int, workers: int, train_steps: int) -> dict:
    """Runs in its own process, so its peak RSS is the data path's and the model's alone."""
    import torch
    import torch.nn.functional as F

    from pipeline.config import DataConfig
    from pipeline.data import load_data
    from pipeline.models import build_model
    from pipeline.recover import evaluate
    from pipeline.recover.loop import LoopSettings, fit

    torch.set_num_threads(1)
    out = {}
    start = time.perf_counter()
    splits = load_data(DataConfig(name="folder", path=folder, image_size=size, lazy="true"), seed=0)
    out["load_s"] = time.perf_counter() - start
    out["sizes"] = {"train": len(splits.y_train), "val": len(splits.y_val), "test": len(splits.y_test)}
    out["split_source"] = splits.split_source
    model = build_model("resnet20-tiny", num_classes=splits.num_classes, in_channels=3)
    steps_per_epoch = len(splits.y_train) // 64
    steps = min(train_steps, steps_per_epoch) if train_steps else steps_per_epoch
    # val_limit keeps the loop's own end-of-run validation out of the timed steps
    settings = LoopSettings(epochs=1, lr=0.05, batch_size=64, max_steps=steps, val_limit=2,
                            desc="bench")
    start = time.perf_counter()
    model, hist = fit(model, splits, lambda m, x, y: F.cross_entropy(m(x), y), settings, seed=0)
    seconds = time.perf_counter() - start
    out["train_steps"], out["train_steps_per_epoch"] = hist.steps, steps_per_epoch
    # a partial epoch is scaled up
    out["train_epoch_s"] = seconds * steps_per_epoch / max(1, hist.steps)
    out["train_epoch_extrapolated"] = hist.steps < steps_per_epoch
    out["accuracy_val"] = evaluate(model, splits.x_val, splits.y_val)
    out["accuracy_test"] = evaluate(model, splits.x_test, splits.y_test)
    start, seen = time.perf_counter(), 0
    for x, _ in splits.loader("train", 64, shuffle=True, augment=True, workers=workers):
        seen += len(x)
    out["loader_epoch_s"] = time.perf_counter() - start
    out["loader_images"] = seen
    out["loader_workers"] = workers
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--images", type=int, default=20_000)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--train-steps", type=int, default=60,
                    help="training steps timed (0: a whole epoch); the epoch time is scaled up")
    ap.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.size, args.workers, args.train_steps)))
        return 0
    n = 600 if args.smoke else args.images
    folder = make_folder(work_dir(args.smoke, "lazy_memory") / f"images-{n}-{args.size}", n, args.size)
    status(f"lazy_memory: {n} images at {args.size}x{args.size} in {folder}")
    env = dict(os.environ, OMP_NUM_THREADS="1", EDGEPRUNE_NO_PROGRESS="1")
    start = time.perf_counter()
    log = folder.parent / "child.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bench.lazy_memory", "--child", str(folder),
                                 "--size", str(args.size), "--workers", str(args.workers),
                                 "--train-steps", str(args.train_steps)],
                                stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
        tree = watch(proc)    # the child and its loader workers together
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-3000:])
        return proc.returncode
    result = json.loads(log.read_text().strip().splitlines()[-1])
    result.update(tree)
    result["wall_s"] = time.perf_counter() - start
    result["images"], result["image_size"] = n, args.size
    # What the in-memory reader would hold for the same folder: float32 pixels alone.
    result["in_memory_pixels_mb"] = n * 3 * args.size ** 2 * 4 / 2 ** 20
    status(f"lazy_memory: peak PSS of the process tree {tree['peak_tree_pss_mb']:.0f} MB; the "
           f"run's own peak RSS {result['peak_rss_mb']:.0f} MB (a worker at most "
           f"{result['worker_peak_rss_mb']:.0f} MB), train epoch {result['train_epoch_s']:.1f} s, "
           f"loader epoch {result['loader_epoch_s']:.1f} s")
    write_result("lazy_memory", args.smoke, result, config=vars(args), seed=0, devices=[])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
