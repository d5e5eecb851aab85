"""Export parity and speed (issue 7, section 4): per format, accuracy, max |logit difference|
to PyTorch, and latency on the matching host profile.

    python -m bench.export_parity           # the bench's baseline models
    python -m bench.export_parity --smoke   # tiny model, seconds

Files come from the project's own export_winner (ONNX fp32/int8, TFLite fp32/int8); the int8
accuracy check is relaxed so every file is kept and reported. ONNX files are measured on
host-ort and TFLite files on host-tflite, each profile's files interleaved over rounds.
"""
from __future__ import annotations

import argparse
import time

from bench.common import device_facts, load_bench_inputs, measure_interleaved, work_dir, write_result
from pipeline.progress import status

PROFILE_OF = {"onnx": "host-ort", "onnx_int8": "host-ort",
              "tflite": "host-tflite", "tflite_int8": "host-tflite"}


def bench_model(model: str, s: dict, smoke: bool) -> dict:
    from bench.search_quality import base_config, profile_for
    from pipeline.devices import open_device
    from pipeline.export import export_winner
    from pipeline.recover import evaluate

    cfg = base_config(model, s)
    splits, base_model, info = load_bench_inputs(cfg)
    out = work_dir(smoke, f"export_parity/{model.replace(':', '_')}")
    start = time.perf_counter()
    artifacts = export_winner(base_model, out, splits, formats=["onnx", "tflite"], int8=True,
                              max_int8_drop=1.0, seed=cfg.seed)
    export_s = time.perf_counter() - start
    rows = {}
    for profile_name in sorted(set(PROFILE_OF.values())):
        keys = [k for k, p in PROFILE_OF.items() if p == profile_name and artifacts[k]["path"]]
        if not keys:
            continue
        profile = profile_for(profile_name, s)
        with open_device(profile) as device:
            lat = measure_interleaved(device, [out / artifacts[k]["path"] for k in keys],
                                      splits.input_shape, s["rounds"])
        for k in keys:
            rows[k] = {"latency_ms": lat[str(out / artifacts[k]["path"])], "profile": profile_name}
    for k, a in artifacts.items():
        rows.setdefault(k, {"profile": PROFILE_OF[k], "latency_ms": None})
        rows[k].update({f: a.get(f) for f in ("accuracy", "max_abs_diff", "top1_agreement",
                                               "bytes", "error", "accuracy_drop")})
        status(f"[{model}] {k:12s} accuracy {rows[k]['accuracy']}, max abs diff "
               f"{rows[k]['max_abs_diff']}, p50 {(rows[k]['latency_ms'] or {}).get('p50')}")
    return {"pytorch_accuracy_test": float(evaluate(base_model, splits.x_test, splits.y_test)),
            "formats": rows, "export_s": export_s, "samples": len(splits.x_test)}


def run(smoke: bool = False) -> dict:
    from bench.search_quality import FULL, SMOKE, profile_for

    s = SMOKE if smoke else FULL
    results = {m: bench_model(m, s, smoke) for m in s["models"]}
    devices = [device_facts(profile_for(p, s)) for p in sorted(set(PROFILE_OF.values()))]
    path = write_result("export_parity", smoke, {"models": results},
                        config={"models": s["models"], "rounds": s["rounds"],
                                "measure": s["measure"], "int8_check": "off (all files kept)"},
                        seed=0, devices=devices)
    status(f"written: {path}")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings, seconds")
    run(parser.parse_args(argv).smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
