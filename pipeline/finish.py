"""Turn each picked winner into a deployable bundle: distill, save, export, verify, re-measure."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from pipeline.progress import status


def finish_winners(cfg, profile, device, base_model, base_info, search, splits, run_dir: Path):
    import torch

    from pipeline.export import export_winner, write_bundle
    from pipeline.prune import apply_genome, count_params_macs, save_pruned
    from pipeline.recover import evaluate, recalibrate_bn, recover

    baseline = dict(search["baseline"])
    example = torch.zeros(splits.input_shape)
    # The baseline is re-measured in the same device session as the winners, so the
    # speedups in the manifests compare numbers taken side by side.
    baseline["latency_ms"] = _measure_baseline(profile, device, base_model, example, run_dir)
    calib = [splits.x_train[i:i + 64] for i in range(0, min(len(splits.x_train), 512), 64)]
    results = []
    for ev, reason in search["winners"]:
        out = run_dir / "winners" / reason
        manifest_path = out / "manifest.json"
        if manifest_path.is_file():   # finished before an interruption
            results.append(json.loads(manifest_path.read_text()))
            continue
        out.mkdir(parents=True, exist_ok=True)
        status(f"winner '{reason}' ({ev.id}): search estimate {100 * ev.accuracy:.2f}% "
               f"at {ev.latency_objective():.3f} {search['unit']}; recovering with "
               f"{cfg.recover.method}")
        torch.manual_seed(cfg.seed)
        if cfg.recover.method == "kd":
            student = apply_genome(base_model, ev.channels, example,
                                   importance=cfg.search.importance)
            recalibrate_bn(student, calib)
        else:
            student = None  # soft schedules start from the unpruned model
        model, history = recover(student, base_model, splits, cfg.recover, cfg.seed,
                                 genome=ev.channels, example_inputs=example)
        model.eval()
        acc_test = float(evaluate(model, splits.x_test, splits.y_test))
        acc_val = float(evaluate(model, splits.x_val, splits.y_val))
        params, macs = count_params_macs(model, example)
        save_pruned(out, model, cfg.model.name, ev.channels,
                    {"reason": reason, "seed": cfg.seed, "data": asdict(cfg.data)})
        formats = list(cfg.export.formats)
        artifacts = export_winner(model, out, splits, formats=formats, int8=cfg.export.int8,
                                  opset=cfg.export.opset, device=device,
                                  max_int8_drop=cfg.export.max_int8_drop)
        main_fmt = "tflite" if profile.runtime == "tflite" else "onnx"
        lat = (artifacts.get(main_fmt) or {}).get("latency_ms") or ev.latency_ms or {}
        manifest = {
            "id": reason, "reason": reason, "search_id": ev.id,
            "model": cfg.model.name, "device": profile.name,
            "device_emulated": bool(getattr(profile, "emulated", False)),
            "accuracy": acc_test, "accuracy_val": acc_val,
            "baseline_accuracy": baseline["accuracy_test"],
            "baseline_accuracy_val": baseline["accuracy"],
            "search_accuracy": ev.accuracy, "search_accuracy_step": ev.error_step,
            "latency_ms": {"p50": lat.get("p50"), "p90": lat.get("p90")},
            "baseline_latency_ms": {"p50": (baseline["latency_ms"] or {}).get("p50"),
                                    "p90": (baseline["latency_ms"] or {}).get("p90")},
            "latency_source": ev.latency_source,
            "params": int(params), "baseline_params": baseline["params"],
            "macs": int(macs), "baseline_macs": baseline["macs"],
            "channels": ev.channels, "full_channels": baseline["channels"],
            "recovery": {"method": cfg.recover.method, **_history_dict(history)},
            "data": asdict(cfg.data), "seed": cfg.seed,
            "input_shape": list(splits.input_shape), "mean": splits.mean, "std": splits.std,
            "labels": splits.labels, "artifacts": artifacts,
        }
        write_bundle(out, manifest, splits=splits)
        results.append(json.loads(manifest_path.read_text()))
        p50, b50 = manifest["latency_ms"]["p50"], manifest["baseline_latency_ms"]["p50"]
        speed = f", {b50 / p50:.2f}x faster" if p50 and b50 else ""
        status(f"winner '{reason}': test accuracy {100 * acc_test:.2f}% (baseline "
               f"{100 * baseline['accuracy_test']:.2f}%), p50 {p50 or float('nan'):.3f} ms{speed}")
    return results, baseline


def _measure_baseline(profile, device, model, example, run_dir: Path) -> dict:
    from pipeline.export import export_onnx, export_tflite
    from pipeline.search.records import latency_dict

    folder = run_dir / "baseline"
    if profile.runtime == "tflite":
        path = export_tflite(model, example, folder / "model.tflite")
    else:
        path = export_onnx(model, example, folder / "model.onnx")
    (m,) = device.measure([path], tuple(example.shape))
    stats = latency_dict(m.stats)
    (folder / "latency.json").write_text(json.dumps(stats, indent=2))
    return stats


def _history_dict(history) -> dict:
    if history is None:
        return {}
    if hasattr(history, "to_dict"):
        return history.to_dict()
    return dict(history) if isinstance(history, dict) else {}
