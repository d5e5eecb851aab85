"""Turn the search's front into deployable winners: recover, verify, export, measure, bundle.

"Fastest within 1 point" is verified, not trusted: the search's accuracy is a cheap estimate,
so front members are recovered (full distillation) and the front searched for the fastest one
that keeps its validation accuracy within the allowed drop (search/line.py), going on from
the search's line probes (line_probes.py). The baseline and every winner file
are then measured together, interleaved over several rounds, so the speedups compare numbers
taken side by side on a shared, noisy machine.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.batching import calibration_slices
from pipeline.progress import status
from pipeline.search.winners import knee

MEASURE_ROUNDS = 3
# Every name a winner folder can get (README's "What a run leaves" describes each).
FASTEST, FALLBACK, KNEE, MOST_ACCURATE = ("fastest-within-1pt", "most-accurate-tried", "knee",
                                          "most-accurate")
WINNER_NAMES = (FASTEST, FALLBACK, KNEE, MOST_ACCURATE)


@dataclass
class Recovered:
    ev: object            # the search's Evaluation
    model: object
    history: object
    accuracy_val: float


def finish_winners(cfg, profile, device, base_model, search, splits, run_dir: Path):
    from pipeline.export.device_check import verify_int8_on_device
    from pipeline.export.winner import flag_slow_int8

    baseline = dict(search["baseline"])
    picked = _pick_and_recover(cfg, base_model, search, splits)
    if not picked:
        status("no pruned architecture made the Pareto front (the unpruned model dominated "
               "every one measured); try more search.generations or a larger search.population")
    bundles = []
    for reason, rec in picked:
        out = run_dir / "winners" / reason
        artifacts = _save_and_export(cfg, rec, reason, splits, out)
        # On an ARM device an int8 file runs other kernels than here: checked there first.
        verify_int8_on_device(device, rec.model, splits, out, artifacts)
        bundles.append((reason, rec, out, artifacts))
    baseline_path = _export_baseline(profile, base_model, splits, run_dir)
    latencies = _measure_interleaved(device, [baseline_path] + [
        out / a["path"] for _, _, out, arts in bundles for a in arts.values() if a["path"]],
        splits.input_shape)
    baseline["latency_ms"] = latencies[str(baseline_path)]
    write_text_atomic(run_dir / "baseline" / "latency.json",
                      json.dumps(baseline["latency_ms"], indent=2))
    results = []
    for reason, rec, out, artifacts in bundles:
        for a in artifacts.values():
            if a["path"]:
                a["latency_ms"] = latencies.get(str(out / a["path"]))
        flag_slow_int8(artifacts)
        results.append(_write_manifest(cfg, profile, baseline, rec, reason, artifacts, splits,
                                       out))
    return results, baseline


def _pick_and_recover(cfg, base_model, search, splits):
    """[(reason, Recovered)]: the verified fastest within 1 point, then the knee."""
    from pipeline.executors import make_executor
    from pipeline.search.line import LineSearch

    full = search["baseline"]["channels"]
    base_acc = search["baseline"]["accuracy"]
    front = sorted((e for e in search["front"] if e.channels != full),
                   key=lambda e: e.latency_objective())
    outlook = search.get("outlook")
    # The search's line probes (pipeline/line_probes.py) already placed the line in part:
    # the finish goes on from their results and reuses their models.
    line = search.get("line") or LineSearch(base_acc, cfg.recover.max_drop,
                                            cfg.recover.candidate_gap, outlook)
    tried: dict[str, Recovered] = dict(search.get("recovered") or {})
    executor = search.get("executor") or make_executor(cfg.search, cfg.train)
    shared = recovery_shared(cfg, base_model, splits, search)

    def get(ev):
        if ev.key not in tried:
            (tried[ev.key],) = executor.map(_recover_task, [ev], shared=shared)
        return tried[ev.key]

    picked = []
    # Candidates whose cheap estimate is hopeless are skipped (search/outlook.recovery_ladder);
    # the rest are searched for the 1-point line (search/line.LineSearch), starting where the
    # recovery outlook expects it when this task has recoveries of its own.
    start = line.calibrated_start(front)
    if executor.name != "local":
        # On a cluster the first try and the knee recover side by side; each recovery is
        # seeded, so the picks below are the ones the one-by-one local order makes.
        ahead = {e.key: e for e in (line.next(front, start), knee(front))
                 if e and e.key not in tried}
        for key, rec in zip(ahead, executor.map(_recover_task, list(ahead.values()),
                                                shared=shared, desc="recover")):
            tried[key] = rec
    for _ in range(cfg.recover.max_candidates):
        ev = line.next(front, start)
        if ev is None:
            break
        line.add(ev, get(ev).accuracy_val)
    found = line.fastest_pass()
    if found is not None:
        picked.append((FASTEST, get(found[0])))
    elif line.results:
        ev, _ = max(line.results.values(), key=lambda r: r[1])
        status(f"no recovered candidate kept validation accuracy within "
               f"{100 * cfg.recover.max_drop:.1f} points; keeping the most accurate tried")
        picked.append((FALLBACK, get(ev)))
    extra = [knee(front)] + sorted(front, key=lambda e: -e.accuracy)
    for ev in extra:
        if len(picked) >= cfg.winners:
            break
        if ev is not None and all(ev.key != r.ev.key for _, r in picked):
            picked.append((KNEE if ev is extra[0] else MOST_ACCURATE, get(ev)))
    for rec in tried.values():
        line.add(rec.ev, rec.accuracy_val)   # the knee's too: the outlook learns from all
    _learn_outlook(outlook, list(line.results.values()), base_acc, cfg.recover.max_drop)
    return picked


def _learn_outlook(outlook, recovered: list, base_acc: float, max_drop: float) -> None:
    """Say how the outlook's expectation compared, then keep these (Evaluation, recovered
    accuracy) pairs for the next run of the same task (search/outlook.py)."""
    if outlook is None or not recovered:
        return
    expectations = [outlook.expected(ev.error_step, ev.accuracy) for ev, _ in recovered]
    for (ev, accuracy), expected in zip(recovered, expectations):
        if expected is not None:
            verdict = "within" if accuracy >= base_acc - max_drop else "beyond"
            status(f"recovery outlook {ev.id}: expected {100 * expected:.1f}%, recovered "
                   f"{100 * accuracy:.1f}% ({verdict} the allowed drop)")
        outlook.add(ev.key, ev.error_step, ev.accuracy, accuracy)
    try:
        outlook.save()
    except OSError as exc:   # only the next run's progress line depends on it
        status(f"recovery outlook: could not be saved ({exc.strerror}); the next run of this "
               f"task starts uncalibrated")


def recovery_shared(cfg, base_model, splits, recovery: dict) -> tuple:
    """What _recover_task needs, sent once per executor call. `recovery`: the search's
    "importance", "batches" and "supernet" (search_stage.run_search_stage)."""
    return (cfg, base_model, splits, recovery.get("importance", cfg.search.importance),
            recovery.get("batches"), recovery.get("supernet"))


def _recover_task(shared, ev) -> Recovered:
    cfg, base_model, splits, importance, batches, supernet = shared
    return _recover(cfg, base_model, ev, splits, importance, batches, supernet)


def _recover(cfg, base_model, ev, splits, importance, batches=None, supernet=None) -> Recovered:
    import torch

    from pipeline.prune import apply_genome
    from pipeline.recover import evaluate, recalibrate_bn, recover

    status(f"recover {ev.id}: search estimate {100 * ev.accuracy:.2f}% ({ev.error_step}) at "
           f"{ev.latency_objective():.3f}; {cfg.recover.method} for up to "
           f"{cfg.recover.epochs} epochs")
    torch.manual_seed(cfg.seed)
    example = torch.zeros(splits.input_shape)
    student = None  # the soft schedules start from the unpruned model
    if cfg.recover.method == "kd":
        calib = calibration_slices(splits.x_train)
        student = recalibrate_bn(apply_genome(base_model, ev.channels, example,
                                              importance=importance, batches=batches), calib)
        if supernet is not None:
            # The supernet's cut is far better where pruning is deep; where it is light the
            # trained model's own weights are (its widest sub-network is a point or so below
            # the trained model). Start from whichever scores higher on validation.
            cut = recalibrate_bn(supernet.prune(ev.channels, example), calib)
            scores = [evaluate(m, splits.x_val, splits.y_val) for m in (student, cut)]
            if scores[1] > scores[0]:
                student = cut
            status(f"recover {ev.id}: starting from the "
                   f"{'supernet' if student is cut else 'trained model'}'s weights "
                   f"({100 * max(scores):.1f}% against {100 * min(scores):.1f}%)")
    model, history = recover(student, base_model, splits, cfg.recover, cfg.seed,
                             genome=ev.channels, example_inputs=example,
                             importance=importance,
                             finetune_epochs=cfg.recover.finetune_epochs)
    model.eval()
    acc = float(evaluate(model, splits.x_val, splits.y_val))
    status(f"recover {ev.id}: validation accuracy {100 * acc:.2f}%")
    return Recovered(ev, model, history, acc)


def _save_and_export(cfg, rec, reason, splits, out: Path) -> dict:
    from pipeline.export import export_winner
    from pipeline.prune import save_pruned

    out.mkdir(parents=True, exist_ok=True)
    save_pruned(out, rec.model, cfg.model.name, rec.ev.channels,
                {"reason": reason, "seed": cfg.seed, "data": asdict(cfg.data)},
                num_classes=splits.num_classes, in_channels=splits.input_shape[1],
                input_shape=tuple(splits.input_shape))
    return export_winner(rec.model, out, splits, formats=list(cfg.export.formats),
                         int8=cfg.export.int8, opset=cfg.export.opset, device=None,
                         max_int8_drop=cfg.export.max_int8_drop, seed=cfg.seed)


def _export_baseline(profile, model, splits, run_dir: Path) -> Path:
    import torch

    from pipeline.export import export_onnx, export_tflite

    example = torch.zeros(splits.input_shape)
    folder = run_dir / "baseline"
    if profile.runtime == "tflite":
        return export_tflite(model, example, folder / "model.tflite")
    return export_onnx(model, example, folder / "model.onnx")


def _measure_interleaved(device, paths: list[Path], input_shape) -> dict[str, dict]:
    """Each file's latency: per statistic, the median over rounds of one batch each."""
    from pipeline.devices.stats import latency_dict, sample_list

    rounds = [device.measure(paths, tuple(input_shape)) for _ in range(MEASURE_ROUNDS)]
    out = {}
    for i, path in enumerate(paths):
        per_round = [latency_dict(r[i].stats) for r in rounds]
        merged = {k: statistics.median(d[k] for d in per_round) for k in per_round[0]}
        merged["rounds_p50"] = [d["p50"] for d in per_round]
        # Every timed run of every round: the report draws their distribution from these.
        merged["samples"] = sample_list(s for r in rounds for s in r[i].stats.samples_ms)
        out[str(path)] = merged
    return out


def _write_manifest(cfg, profile, baseline, rec, reason, artifacts, splits, out: Path) -> dict:
    from pipeline.export import write_bundle
    from pipeline.prune import count_params_macs
    from pipeline.recover import evaluate

    import torch

    ev = rec.ev
    params, macs = count_params_macs(rec.model, torch.zeros(splits.input_shape))
    acc_test = float(evaluate(rec.model, splits.x_test, splits.y_test))
    main_fmt = "tflite" if profile.runtime == "tflite" else "onnx"
    lat = (artifacts.get(main_fmt) or {}).get("latency_ms") or {}
    base_lat = baseline["latency_ms"] or {}
    manifest = {
        "id": reason, "reason": reason, "search_id": ev.id,
        "model": cfg.model.name, "device": profile.name,
        "device_emulated": bool(profile.emulated),
        "accuracy": acc_test, "accuracy_val": rec.accuracy_val,
        "baseline_accuracy": baseline["accuracy_test"],
        "baseline_accuracy_val": baseline["accuracy"],
        "search_accuracy": ev.accuracy, "search_accuracy_step": ev.error_step,
        "latency_ms": {"p50": lat.get("p50"), "p90": lat.get("p90")},
        # Which file those are: the format of the device's runtime (the baseline's too).
        "latency_format": main_fmt,
        "baseline_latency_ms": {"p50": base_lat.get("p50"), "p90": base_lat.get("p90")},
        "speedup_p50": (base_lat["p50"] / lat["p50"]) if lat.get("p50") and base_lat.get("p50")
        else None,
        "latency_source": ev.latency_source,
        "params": int(params), "baseline_params": baseline["params"],
        "macs": int(macs), "baseline_macs": baseline["macs"],
        "channels": ev.channels, "full_channels": baseline["channels"],
        "recovery": {"method": cfg.recover.method, **_history_dict(rec.history)},
        "data": asdict(cfg.data), "seed": cfg.seed, "artifacts": artifacts,
    }
    write_bundle(out, manifest, splits=splits)
    written = json.loads((out / "manifest.json").read_text())
    speed = f", {manifest['speedup_p50']:.2f}x faster" if manifest["speedup_p50"] else ""
    status(f"winner '{reason}': test accuracy {100 * acc_test:.2f}% (baseline "
           f"{100 * baseline['accuracy_test']:.2f}%), p50 {lat.get('p50') or float('nan'):.3f} "
           f"ms{speed}")
    return written


def _history_dict(history) -> dict:
    return history.to_dict() if hasattr(history, "to_dict") else {}
