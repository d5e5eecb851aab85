"""What every benchmark shares: where results go, what each result file records, timing, and
latency measured interleaved over rounds (the only way ratios mean something on a shared host).

Result files are committed, so nothing machine-specific (home folder, repo path) goes in them.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

RESULTS_DIR = Path("bench/results")
SMOKE_DIR = RESULTS_DIR / "tmp"   # git-ignored: smoke runs never overwrite real results


def results_dir(smoke: bool) -> Path:
    path = SMOKE_DIR if smoke else RESULTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def work_dir(smoke: bool, name: str) -> Path:
    """Scratch space for models and exported files (git-ignored, kept for inspection)."""
    path = SMOKE_DIR / ("smoke-work" if smoke else "work") / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        # Results are outputs, not code: a bench that writes its file after each seed would
        # otherwise mark its own later writes dirty.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)bench/results"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def scrub(value):
    """Replace this machine's home folder and working directory in any string of a result."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        cwd, home = str(Path.cwd()), str(Path.home())
        return value.replace(cwd, ".").replace(home, "~")
    return value


def device_facts(profile) -> dict:
    """The device's own account of itself (CPU, runtimes and versions, pinned cores)."""
    from pipeline.devices import open_device

    with open_device(profile) as device:
        facts = dict(device.check())
    facts["python"] = Path(facts.get("python") or "").name
    return {"profile": profile.name, **scrub(facts)}


def write_result(name: str, smoke: bool, payload: dict, *, config: dict, seed: int,
                 devices: list[dict]) -> Path:
    """bench/results/<name>.json with the commit, config, device facts and seed of the run."""
    out = results_dir(smoke) / f"{name}.json"
    record = {"benchmark": name, "smoke": smoke, "git_commit": git_commit(),
              "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "load_average": list(os.getloadavg()), "cpu_count": os.cpu_count(),
              "seed": seed, "config": config, "devices": devices, **payload}
    out.write_text(json.dumps(scrub(record), indent=2, default=_jsonable) + "\n")
    return out


def read_result(name: str, smoke: bool) -> dict | None:
    path = results_dir(smoke) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def cells_left_out(name: str, smoke: bool, models, profiles) -> tuple[dict, dict, dict]:
    """A run of some models / profiles: the last result's other cells ({model: {profile:
    cell}}), when and at which commit each was measured ({"model / profile": {git_commit,
    finished_utc, and what the cell's own entry adds}}), and that last result. A whole-grid run
    (no models, no profiles) keeps nothing."""
    last = read_result(name, smoke) or {}
    if not (models or profiles) or not last:
        return {}, {}, last
    cells, commits = {}, {}
    for model, by_profile in last.get("cells", {}).items():
        for profile, cell in by_profile.items():
            if model in (models or [model]) and profile in (profiles or [profile]):
                continue   # measured again now
            cells.setdefault(model, {})[profile] = cell
            commits[f"{model} / {profile}"] = {   # older results: the run's commit and time
                "git_commit": last.get("git_commit", ""),
                "finished_utc": last.get("finished_utc", ""),
                **last.get("cell_commits", {}).get(f"{model} / {profile}", {})}
    return cells, commits, last


def _jsonable(obj):
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


class Stopwatch:
    """Wall time per named step; `with watch("search"): ...`."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str):
        watch = self

        class _Step:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                watch.seconds[name] = watch.seconds.get(name, 0.0) + time.perf_counter() - self.start

        return _Step()


def measure_interleaved(device, paths: list[Path], input_shape, rounds: int) -> dict[str, dict]:
    """Per file: p50/p90 as the median over `rounds` batches (every file once per round) and
    the spread of the per-round medians. Files of equal architecture share one measurement."""
    from pipeline.devices.stats import latency_dict

    per_round = [device.measure(paths, tuple(input_shape)) for _ in range(rounds)]
    out = {}
    for i, path in enumerate(paths):
        stats = [latency_dict(r[i].stats) for r in per_round]
        p50s = [s["p50"] for s in stats]
        out[str(path)] = {"p50": statistics.median(p50s),
                          "p90": statistics.median(s["p90"] for s in stats),
                          "p50_min": min(p50s), "p50_max": max(p50s), "rounds_p50": p50s}
    return out


def ratio_over_rounds(a: dict, b: dict) -> dict:
    """a/b per round (both measured in the same rounds): median and range."""
    ratios = [x / y for x, y in zip(a["rounds_p50"], b["rounds_p50"])]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}


def load_bench_inputs(cfg):
    """pipeline.run.load_inputs, plus how long the baseline took to train: measured when this
    call trains it, and kept next to the cached weights for later runs (None if unknown)."""
    from pipeline.run import StageClock, load_inputs

    clock = StageClock()
    before = set(_baseline_files())
    splits, model, info = load_inputs(cfg, clock)
    weights = Path(info["source"])
    sidecar = weights.with_suffix(".train.json")
    if weights.is_file() and weights not in before:
        sidecar.write_text(json.dumps({"train_s": clock.seconds["train"], "git_commit": git_commit(),
                                       "model": cfg.model.name, "epochs": cfg.train.epochs,
                                       "load_average": list(os.getloadavg())}))
    info = dict(info, training=json.loads(sidecar.read_text()) if sidecar.is_file() else None)
    return splits, model, info


def full_test_split(cfg, splits):
    """The data set's whole official test part, normalised as `splits` is, or None when the
    data set has no test part of its own (or `splits` already holds all of it).

    A subset (data.limit) keeps the searches affordable on 2 cores, but its share of the test
    part is small: 857 Fashion-MNIST images put a 1-point line within one standard error of
    noise. Every file is judged on all the test images instead; nothing chooses by them."""
    import copy

    import torch

    from pipeline.data.load import load_data

    data = copy.deepcopy(cfg.data)
    if not getattr(data, "limit", 0):
        return None
    data.limit, data.val_images = 0, 0   # every image: none is left unused to validate on
    full = load_data(data, cfg.seed, in_channels=splits.input_shape[1])
    if not (full.test_from_source and splits.test_from_source) or full.labels != splits.labels:
        return None
    shape = (1, -1, 1, 1)
    pixels = (full.x_test * torch.tensor(full.std).view(shape)
              + torch.tensor(full.mean).view(shape))
    x = (pixels - torch.tensor(splits.mean).view(shape)) / torch.tensor(splits.std).view(shape)
    return x.float().contiguous(), full.y_test


def _baseline_files():
    from pipeline.paths import cache_dir

    return (cache_dir() / "baselines").glob("*.safetensors")
