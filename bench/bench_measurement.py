"""Measurement layer benchmark: session-to-session stability and per-model overhead.

    python -m bench.bench_measurement           # full run (about a minute), writes JSON
    python -m bench.bench_measurement --smoke   # seconds; CI runs it

1. Stability: the same model measured in N separate sessions (a fresh runner process each)
   on `host-ort`; the coefficient of variation of their medians (target < 2%).
2. Overhead: a batch of distinct models in one session; the wall time beyond the timed runs
   (session start, model load, warm-up, drift reference re-measurement), per model.
   Locally (target < 0.2 s) and over SSH to a real sshd on 127.0.0.1 (target < 0.5 s).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import results_dir
from pipeline.devices import coefficient_of_variation, load_profile, open_device
from pipeline.devices.testing_models import make_conv_onnx
from pipeline.devices.testing_sshd import TestSshd, sshd_available

INPUT_SHAPE = (1, 3, 64, 64)
REFERENCE_WIDTHS = (48, 96, 192)  # about 1-1.5 ms with 1 ONNX Runtime thread on this host
TARGET_CV = 0.02
TARGET_OVERHEAD_LOCAL_S = 0.2
TARGET_OVERHEAD_SSH_S = 0.5
# Smoke proves the script runs; 5 runs cannot be stable, so drift checks are off too.
SMOKE_MEASURE = {"warmup_runs": 2, "warmup_min_s": 0.0, "runs": 5, "min_time_s": 0.0,
                 "drift_every": 0}


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def stability(profile, model: Path, sessions: int) -> dict:
    medians_ms, n_samples, p90_over_p50 = [], [], []
    for _ in range(sessions):
        with open_device(profile) as device:  # no cache: every session really measures
            [m] = device.measure([model], INPUT_SHAPE)
        medians_ms.append(m.stats.p50_ms)
        n_samples.append(m.stats.n)
        # The tail within one session: how much slower the slow runs are than the typical one.
        p90_over_p50.append(m.stats.p90_ms / m.stats.p50_ms)
    cv = coefficient_of_variation(medians_ms)
    return {"sessions": sessions, "medians_ms": medians_ms, "timed_runs": n_samples,
            "p90_over_p50": p90_over_p50,
            "cv_of_medians": cv, "target_cv": TARGET_CV, "meets_target": cv < TARGET_CV}


def overhead(profile, models: list[Path], target_s: float) -> dict:
    start = time.perf_counter()
    with open_device(profile) as device:
        session_start = time.perf_counter()
        facts = device.check()
        session_ready_s = time.perf_counter() - session_start
        measurements = device.measure(models, INPUT_SHAPE)
        drift_events = list(device.drift_events)
    wall_s = time.perf_counter() - start
    timed_s = sum(m.facts["timed_s"] for m in measurements)
    per_model_s = (wall_s - timed_s) / len(models)
    return {"models": len(models), "wall_s": wall_s, "timed_runs_s": timed_s,
            "session_start_s": session_ready_s,
            "mean_load_s": sum(m.facts["load_s"] for m in measurements) / len(models),
            "mean_warmup_s": sum(m.facts["warmup_s"] for m in measurements) / len(models),
            # Each drift event redid the batch so far: on a loaded host that dominates.
            "drift_events": drift_events,
            "overhead_per_model_s": per_model_s, "target_s": target_s,
            "meets_target": per_model_s < target_s, "runtime_versions": facts["runtimes"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings, seconds")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--models", type=int, default=8, help="batch size for the overhead")
    parser.add_argument("--seed", type=int, default=0, help="weights of the generated models")
    parser.add_argument("--out", default=None, help="default: bench/results/measurement.json")
    args = parser.parse_args(argv)

    profile = load_profile("host-ort")
    sessions, n_models = args.sessions, args.models
    if args.smoke:
        profile = dataclasses.replace(profile, **SMOKE_MEASURE)
        sessions, n_models = 2, 2
    folder = Path(tempfile.mkdtemp(prefix="edgeprune-bench-"))
    reference = make_conv_onnx(folder / "reference.onnx", REFERENCE_WIDTHS, INPUT_SHAPE,
                               weights_seed=args.seed)
    # Distinct architectures (last width steps down by 8): no duplicate, no cache hit.
    batch = [make_conv_onnx(folder / f"m{i}.onnx",
                            REFERENCE_WIDTHS[:-1] + (REFERENCE_WIDTHS[-1] - 8 * i,),
                            INPUT_SHAPE, weights_seed=args.seed + i) for i in range(n_models)]

    result = {"benchmark": "measurement", "smoke": args.smoke, "git_commit": _git_commit(),
              "load_average_before": os.getloadavg(),
              "seed": args.seed, "input_shape": list(INPUT_SHAPE),
              "model_widths": list(REFERENCE_WIDTHS), "profile": profile.to_dict()}
    with open_device(profile) as device:
        result["device_facts"] = device.check()
    # Results are committed: no paths of the machine that ran the benchmark.
    result["profile"]["path"] = profile.path.name if profile.path else None
    result["device_facts"]["python"] = Path(result["device_facts"]["python"]).name
    for key in ("key_file", "known_hosts"):
        result["profile"][key] = result["profile"][key].replace(str(Path.home()), "~")
    result["stability"] = stability(profile, reference, sessions)
    result["overhead_local"] = overhead(profile, batch, TARGET_OVERHEAD_LOCAL_S)

    if sshd_available():
        server = TestSshd.start()
        try:
            ssh = load_profile(server.profile_toml(folder / "loopback.toml", name="loopback"))
            # The same measurement settings and pinning as host-ort: only the transport differs.
            same = {f: getattr(profile, f) for f in (
                "cores", "threads", "warmup_runs", "warmup_min_s", "runs", "min_time_s",
                "drift_every", "drift_tolerance")}
            ssh = dataclasses.replace(ssh, **same)
            result["overhead_ssh"] = overhead(ssh, batch, TARGET_OVERHEAD_SSH_S)
        finally:
            server.stop()
    else:
        result["overhead_ssh"] = {"skipped": "sshd not installed (apt-get install openssh-server)"}

    result["load_average_after"] = os.getloadavg()
    shutil.rmtree(folder, ignore_errors=True)
    out = Path(args.out) if args.out else results_dir(args.smoke) / "measurement.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    s, lo, sh = result["stability"], result["overhead_local"], result["overhead_ssh"]
    print(f"stability: {s['sessions']} sessions, medians "
          f"{', '.join(f'{m:.3f}' for m in s['medians_ms'])} ms, CV {s['cv_of_medians']:.2%} "
          f"(target < {TARGET_CV:.0%})")
    print(f"overhead local: {lo['overhead_per_model_s']:.3f} s/model (target < "
          f"{TARGET_OVERHEAD_LOCAL_S} s), {len(lo['drift_events'])} drift event(s)")
    if "overhead_per_model_s" in sh:
        print(f"overhead ssh:   {sh['overhead_per_model_s']:.3f} s/model (target < "
              f"{TARGET_OVERHEAD_SSH_S} s), {len(sh['drift_events'])} drift event(s)")
    print(f"load average (1 min) before/after: {result['load_average_before'][0]:.2f}/"
          f"{result['load_average_after'][0]:.2f} on {os.cpu_count()} cores")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
