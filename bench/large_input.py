"""A user's model at 224x224 on an image folder, end to end on a tiny budget, once with the local
executor and once with Ray (issue 14): the peak memory of the whole process tree, the wall time,
and whether `search.executor=ray` gives the same front as `local` for the same seed.

    python -m bench.large_input           # 400 PNGs at 224x224, bench.models:mobilenetv2_224
    python -m bench.large_input --smoke   # 60 PNGs at 32x32 (seconds; checks the code path)

Each run is `edgeprune run` in its own process (data.lazy=true, 2 loader workers, host-ort, a
4 x 2 search, one winner exported to ONNX and TFLite). Memory is sampled from /proc every 0.2 s
over the run's process and all its descendants (loader workers, TFLite converters, Ray's own
processes and workers), three ways: the sum of proportional set sizes (PSS: a page shared by k
processes counts 1/k in each, so the sum is what the tree holds), the sum of resident sets (RSS:
shared pages once per process, an over-count) and the largest single process's RSS. Training
activations grow with the batch: the model's one training step at 224x224 holds 1.5 GB at 16
images and 3.9 GB at 64 (measured apart), so the bench runs at data.batch_size=16 and says so.
A first, untimed run with the same settings trains the baseline and measures its architectures;
both timed runs share its cache, so they find the same latency for every architecture they
share (the cache is keyed by the architecture) and a difference in their fronts can only come
from the accuracy side, which is what Ray runs. The predictor and screening are off: nothing
depends on the cache's size.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import work_dir, write_result
from bench.lazy_memory import make_folder
from bench.memory import watch
from pipeline.progress import status

MODEL = "bench.models:mobilenetv2_224"
FULL = {"images": 400, "size": 224, "train_epochs": 1, "population": 4, "generations": 2,
        "batch_size": 16}
SMOKE = {"images": 60, "size": 32, "train_epochs": 1, "population": 4, "generations": 1,
         "batch_size": 16}


def run_overrides(folder: Path, s: dict) -> list[str]:
    return [f"data.name=folder", f"data.path={folder}", "data.lazy=true",
            f"data.image_size={s['size']}", "data.eval_images=400", f"data.batch_size={s['batch_size']}",
            f"train.epochs={s['train_epochs']}", f"search.population={s['population']}",
            f"search.generations={s['generations']}", "search.screen_factor=1",
            "search.predictor=false", "search.supernet_epochs=0", "search.sensitivity=false",
            "search.calib_batches=2", "search.val_subset=256", "search.front_finetune_steps=5",
            "search.refine_per_generation=1", "recover.epochs=1", "recover.max_candidates=1",
            "winners=1", "export.int8=false", "device=host-ort"]


def timed_run(args: list[str], env: dict, log: Path) -> dict:
    """One `edgeprune run` child: wall time and its memory peaks (bench.memory.watch)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env)
        peaks = watch(proc)
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-3000:])
        raise SystemExit(f"large_input: `edgeprune run` exited {proc.returncode}; its log: {log}")
    return {"wall_s": time.perf_counter() - start, **peaks}


def front_of(run_dir: Path) -> list[dict]:
    """The front as the search left it: architecture and accuracy estimates of each member."""
    front = json.loads((run_dir / "pareto.json").read_text())["front"]
    keep = ("channels", "accuracy_bn", "accuracy_kd", "accuracy_quick")
    return sorted(({k: m.get(k) for k in keep} for m in front),
                  key=lambda m: json.dumps(m["channels"], sort_keys=True))


def same_front(a: list[dict], b: list[dict], tol: float = 1e-6) -> bool:
    if [m["channels"] for m in a] != [m["channels"] for m in b]:
        return False
    return all(abs((x[k] or 0) - (y[k] or 0)) <= tol
               for x, y in zip(a, b) for k in x if k != "channels")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--also-batch", type=int, nargs="*", default=[8], metavar="N",
                    help="also a local run at data.batch_size=N, for its memory (default 8)")
    args = ap.parse_args(argv)
    s = SMOKE if args.smoke else FULL
    work = work_dir(args.smoke, "large_input")
    folder = make_folder(work / f"images-{s['images']}-{s['size']}", s["images"], s["size"])
    overrides = run_overrides(folder, s)
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    # Ray's workers import `bench.models` (the user model's factory) from this folder too
    path = os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, EDGEPRUNE_CACHE=str(cache), EDGEPRUNE_NO_PROGRESS="1",
               PYTHONPATH=path)
    status(f"large_input: {s['images']} images at {s['size']}x{s['size']}; training the baseline")
    shutil.rmtree(work / "run-warm", ignore_errors=True)
    warm = timed_run(["--model", MODEL, "--out", str(work / "run-warm"), *overrides], env,
                     work / "run-warm.log")
    runs = {}
    for executor in ("local", "ray"):
        status(f"large_input: run with search.executor={executor}")
        out = work / f"run-{executor}"
        shutil.rmtree(out, ignore_errors=True)
        runs[executor] = timed_run(["--model", MODEL, "--out", str(out), *overrides,
                                    f"search.executor={executor}"], env, work / f"{executor}.log")
        runs[executor]["front"] = front_of(out)
    for batch in args.also_batch:
        # memory only: the same local run with a smaller training batch (its own baseline)
        status(f"large_input: local run at data.batch_size={batch}")
        out = work / f"run-local-batch{batch}"
        shutil.rmtree(out, ignore_errors=True)
        runs[f"local-batch{batch}"] = {"batch_size": batch, **timed_run(
            ["--model", MODEL, "--out", str(out), *overrides, f"data.batch_size={batch}"], env,
            work / f"local-batch{batch}.log")}
        runs[f"local-batch{batch}"]["front"] = front_of(out)
    result = {"model": MODEL, "images": s["images"], "image_size": s["size"],
              "batch_size": s["batch_size"],
              "in_memory_pixels_mb": s["images"] * 3 * s["size"] ** 2 * 4 / 2 ** 20,
              "warm_run": warm, "runs": runs,
              "same_front": same_front(runs["local"]["front"], runs["ray"]["front"]),
              "front_size": len(runs["local"]["front"])}
    for name, r in runs.items():
        status(f"large_input: {name}: wall {r['wall_s']:.0f} s, peak tree PSS "
               f"{r['peak_tree_pss_mb']:.0f} MB (RSS sum {r['peak_tree_rss_mb']:.0f}, largest "
               f"process {r['peak_largest_rss_mb']:.0f}), front of {len(r['front'])}")
    status(f"large_input: same front local vs ray: {result['same_front']}")
    kept = [o for o in overrides if not o.startswith("data.path=")]
    write_result("large_input", args.smoke, result,
                 config={**s, "overrides": kept, "also_batch": args.also_batch}, seed=0,
                 devices=[])
    return result


if __name__ == "__main__":
    main()
