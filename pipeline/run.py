"""The main job: data -> baseline -> latency -> sensitivity -> search -> winners -> report.

Every stage writes into the run folder as it finishes, so `edgeprune run --resume DIR` picks up
where an interrupted run stopped (the search replays its checkpointed evaluations).
`status.json` says whether the run is complete: nothing half-written is presented as a result.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import DeviceError, UserError
from pipeline.progress import status
from pipeline.search.checkpoint import write_json_atomic


@dataclass
class StageClock:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def prepare_out_dir(out: str | None) -> Path:
    """A new, empty output folder (a folder holding a run is refused), created."""
    from pipeline.run_folder import make_run_dir, new_run_dir

    path = new_run_dir(out)
    make_run_dir(path)
    return path


def run_job(cfg, run_dir: Path, resume: bool = False) -> dict:
    """`run_dir`: for a new run, a folder from `run_folder.new_run_dir` (created here, removed
    again if set-up fails); with `resume`, one `run_folder.check_resumable` accepted."""
    from pipeline.config import write_config
    from pipeline.devices import load_profile
    from pipeline.run_folder import discard_unstarted, has_work, make_run_dir
    from pipeline.validate import absolute_paths, check_inputs

    profile = load_profile(cfg.device)   # an unknown device fails before any work
    check_inputs(cfg, profile)           # paths, model name, the board: before anything is written
    absolute_paths(cfg)
    from pipeline.recover.compute import compute_for, use

    compute = compute_for(cfg.train.device, cfg.train.amp)  # a missing GPU fails before any work
    if compute.accelerated:
        status(f"compute: training and accuracy estimates on {compute.device}"
               + (" (mixed precision)" if compute.amp else "") + "; exports on the CPU")
    created = False if resume else make_run_dir(run_dir)
    if not resume:
        write_config(cfg, run_dir / "config.toml")
    write_json_atomic(run_dir / "status.json", {"complete": False, "stage": "start"})
    clock = StageClock()
    done = False
    try:
        with use(compute):
            summary = _stages(cfg, profile, run_dir, clock)
        done = True
    except KeyboardInterrupt:
        if resume or has_work(run_dir):
            status(f"interrupted: state saved; continue with `edgeprune run --resume {run_dir}`")
        raise
    except DeviceError as exc:
        if not (resume or has_work(run_dir)):
            raise
        raise DeviceError(f"{exc} -- the search state is saved; fix the device, then "
                          f"`edgeprune run --resume {run_dir}`") from None
    finally:
        write_json_atomic(run_dir / "timings.json", clock.seconds)
        if not done and not resume:
            discard_unstarted(run_dir, created)   # failed in set-up: no half-made run folder
    write_json_atomic(run_dir / "status.json", {"complete": True, "stage": "done"})
    return summary


def load_inputs(cfg, clock: StageClock | None = None):
    """The data splits and the trained model to prune (trained once and cached if needed)."""
    import torch

    from pipeline.baseline import get_baseline
    from pipeline.data import load_data

    clock = clock or StageClock()
    torch.manual_seed(cfg.seed)
    with clock.stage("data"):
        splits = load_data(cfg.data, cfg.seed, in_channels=_model_channels(cfg))
    status(f"data: {cfg.data.name}, {len(splits.x_train)} train / {len(splits.x_val)} val / "
           f"{len(splits.x_test)} test, input {list(splits.input_shape)}")
    status(f"data splits: {splits.split_source}")
    if cfg.model.weights and not splits.test_from_source:
        status("warning: the test split was drawn here, so it may overlap the data your weights "
               "were trained on; give your own split (train/ val/ test/ folders or a CSV "
               "path,label,split) for a test accuracy you can trust")
    with clock.stage("train"):
        base_model, base_info = get_baseline(cfg, splits)
    status(f"baseline: val accuracy {100 * base_info['accuracy_val']:.2f}%, "
           f"test accuracy {100 * base_info['accuracy_test']:.2f}%")
    return splits, base_model, base_info


def _model_channels(cfg) -> int | None:
    """data.channels=auto on image files: a user model's first conv decides (zoo models adapt)."""
    from pipeline.data import first_conv_in_channels
    from pipeline.models import build_model, is_zoo_model

    if cfg.data.name not in ("folder", "csv") or cfg.data.channels != "auto" \
            or is_zoo_model(cfg.model.name):
        return None
    return first_conv_in_channels(build_model(cfg.model.name))


def _stages(cfg, profile, run_dir: Path, clock: StageClock) -> dict:
    from pipeline.devices import MeasurementCache, open_device

    splits, base_model, base_info = load_inputs(cfg, clock)
    write_json_atomic(run_dir / "data.json", splits.describe())
    from pipeline.finish import finish_winners
    from pipeline.search_stage import run_search_stage

    # The search reuses latencies across runs (keyed by architecture, not weights) ...
    with open_device(profile, cache=MeasurementCache()) as device, clock.stage("search"):
        search = run_search_stage(cfg, profile, device, base_model, base_info, splits,
                                  run_dir, clock)
    # ... the exported winners are measured afresh: these numbers go into the manifests.
    with open_device(profile) as device, clock.stage("recover_export"):
        winners, baseline = finish_winners(cfg, profile, device, base_model, search, splits,
                                           run_dir)
    pareto = json.loads((run_dir / "pareto.json").read_text())
    pareto["winners"] = [{"id": w["search_id"], "reason": w["reason"],
                          "accuracy_val": w["accuracy_val"]} for w in winners]
    pareto["baseline"]["latency_ms"] = baseline["latency_ms"]
    write_json_atomic(run_dir / "pareto.json", pareto)
    # The per-individual model files only served the measurements (kept until the device,
    # which may re-measure a reference for its drift check, is closed).
    shutil.rmtree(run_dir / "search_work", ignore_errors=True)
    with clock.stage("report"):
        _report(run_dir)
    return {"run_dir": str(run_dir), "baseline": baseline, "winners": winners,
            "data": splits.describe()}


def _report(run_dir: Path) -> None:
    from pipeline.report import plot_pareto, write_report

    evals = [json.loads(line) for line in (run_dir / "evaluations.jsonl").read_text().splitlines()
             if line]
    pareto = json.loads((run_dir / "pareto.json").read_text())
    note = "latencies are emulation times (qemu), not a real board's" \
        if pareto.get("device_emulated") else ""
    plot_pareto(evals, pareto["baseline"], run_dir / "pareto.png", winners=pareto["winners"],
                note=note)
    write_report(run_dir)


def load_run_config(run_dir: Path):
    from pipeline.config import load_config
    from pipeline.paths import user_path

    run_dir = user_path(run_dir, "run folder", "dir", "pass the folder `edgeprune run` printed")
    if not (run_dir / "config.toml").is_file():
        raise UserError(f"'{run_dir}' is not a run folder (no config.toml); pass the folder "
                        f"`edgeprune run` printed")
    return load_config(run_dir / "config.toml")

