"""A small, realistic run folder as `edgeprune run` writes it, for rendering the report."""
from __future__ import annotations

import json
import random
from pathlib import Path

FULL = {"conv1": 16, "layer1.0.conv1": 16, "layer1.1.conv1": 16, "layer2.0.conv1": 32,
        "layer2.0.conv2": 32, "layer2.1.conv1": 32, "layer3.0.conv1": 64, "layer3.0.conv2": 64,
        "layer3.1.conv1": 64}


def latency(p50: float, rng: random.Random, n: int = 0) -> dict:
    d = {"p50": p50, "p90": p50 * 1.08, "mean": p50 * 1.02, "min": p50 * 0.95, "max": p50 * 1.3,
         "iqr": p50 * 0.04}
    if n:
        d["samples"] = [p50 * rng.uniform(0.95, 1.12) for _ in range(n)]
    return d


def evaluation(gen: int, i: int, rng: random.Random) -> dict:
    keep = rng.uniform(0.2, 1.0)
    channels = {k: max(1, round(v * keep * rng.uniform(0.8, 1.0))) for k, v in FULL.items()}
    frac = sum(channels.values()) / sum(FULL.values())
    acc = min(0.99, 0.55 + 0.45 * frac ** 0.4 + rng.uniform(-0.03, 0.01))
    return {"id": f"g{gen:03d}-i{i:02d}", "generation": gen, "channels": channels,
            "accuracy": acc, "error": 1 - acc, "error_step": "kd_short" if i < 3 else "bn_recal",
            "latency_ms": latency(0.2 + 0.9 * frac * rng.uniform(0.9, 1.1), rng),
            "latency_source": "device", "params": int(270_000 * frac ** 2),
            "macs": int(41_000_000 * frac ** 2), "cached": i % 5 == 0, "feasible": acc > 0.8}


def make_run_dir(root: Path, emulated: bool = False, seed: int = 0) -> Path:
    rng = random.Random(seed)
    run = Path(root) / "run"
    run.mkdir(parents=True, exist_ok=True)
    evals = [evaluation(g, i, rng) for g in range(-1, 4) for i in range(12)]  # -1: sensitivity scan
    (run / "evaluations.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evals))
    baseline = {"accuracy": 0.993, "accuracy_test": 0.989, "latency_ms": latency(1.1, rng),
                "params": 270_000, "macs": 41_000_000, "channels": FULL}
    feasible = sorted((e for e in evals if e["feasible"]), key=lambda e: e["latency_ms"]["p50"])
    fastest, balanced = feasible[0], max(feasible, key=lambda e: e["accuracy"] - 0.1 * e["latency_ms"]["p50"])
    winners = [("fastest", fastest), ("balanced", balanced)]
    (run / "pareto.json").write_text(json.dumps({
        "device": "rpi4-emulated" if emulated else "host-ort", "device_emulated": emulated,
        "latency_source": "device", "baseline": baseline, "front": [fastest, balanced],
        "winners": [{"id": e["id"], "reason": r} for r, e in winners], "full_channels": FULL,
        "flops_points": [{**e, "accuracy": e["accuracy"] - 0.01,
                          "latency_ms": latency(e["latency_ms"]["p50"] * 1.25, rng)} for e in feasible[::9]]}))
    for reason, e in winners:
        folder = run / "winners" / reason
        folder.mkdir(parents=True, exist_ok=True)
        p50 = e["latency_ms"]["p50"]
        manifest = {
            "id": reason, "reason": reason, "search_id": e["id"], "model": "resnet20",
            "device": "host-ort", "device_emulated": emulated, "accuracy": e["accuracy"] - 0.004,
            "accuracy_val": e["accuracy"], "baseline_accuracy": 0.989, "baseline_accuracy_val": 0.993,
            "latency_ms": {"p50": p50, "p90": p50 * 1.08},
            "baseline_latency_ms": {"p50": 1.1, "p90": 1.19}, "params": e["params"],
            "baseline_params": 270_000, "macs": e["macs"], "baseline_macs": 41_000_000,
            "channels": e["channels"], "recovery": {"method": "kd", "best_epoch": 7},
            "artifacts": {
                "onnx": {"path": "model.onnx", "sha256": "ab" * 32, "max_abs_diff": 3.1e-6,
                         "top1_agreement": 1.0, "accuracy": e["accuracy"] - 0.004,
                         "latency_ms": latency(p50, rng, n=60)},
                "tflite": {"path": "model.tflite", "sha256": "cd" * 32, "max_abs_diff": 4.0e-8,
                           "top1_agreement": 1.0, "accuracy": e["accuracy"] - 0.004,
                           "latency_ms": latency(p50 * 1.3, rng, n=60)},
                "tflite_int8": {"path": None, "error": "accuracy dropped 2.1 points (> 1.0)"},
            }}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    (run / "config.toml").write_text('seed = 0\ndevice = "host-ort"\n\n[search]\npopulation = 12\n'
                                     'generations = 4\n')
    (run / "timings.json").write_text(json.dumps({"data": 0.4, "train": 95.0, "search": 420.5}))
    return run
