"""`edgeprune profile --device NAME MODEL...`: measure model files, print a table or JSON."""
from __future__ import annotations

import json


def register(sub):
    p = sub.add_parser("profile", help="measure model files (.onnx/.tflite) on a device profile")
    p.add_argument("models", nargs="+", metavar="MODEL", help=".onnx or .tflite files")
    p.add_argument("--device", required=True, help="profile name in device_profiles/ or .toml")
    p.add_argument("--input-shape", default="",
                   help="e.g. 1,3,32,32 (default: the first model's input, dynamic dims = 1)")
    p.add_argument("--no-cache", action="store_true", help="measure even if cached")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from pipeline.devices.cache import MeasurementCache
    from pipeline.devices.device import open_device
    from pipeline.devices.model_info import model_input_shape, parse_shape
    from pipeline.devices.profile import load_profile

    profile = load_profile(args.device)
    paths = [Path(m) for m in args.models]
    shape = parse_shape(args.input_shape) if args.input_shape else model_input_shape(paths[0])
    cache = None if args.no_cache else MeasurementCache()
    with open_device(profile, cache) as device:
        measurements = device.measure(paths, shape)
        facts = device.check()
    if args.json:
        print(json.dumps({"device": profile.name, "input_shape": list(shape), "device_facts": facts,
                          "drift_events": device.drift_events,
                          "models": [dict(m.to_dict(), path=str(p))
                                     for p, m in zip(paths, measurements)]}, indent=2))
        return 0
    print(f"{profile.name}: {facts['cpu']}, threads {profile.threads}, input {list(shape)}")
    header = ("model", "p50 ms", "p90 ms", "mean ms", "min ms", "max ms", "IQR ms", "n", "cached")
    rows = [header]
    for path, m in zip(paths, measurements):
        s = m.stats
        rows.append((path.name, *(f"{v:.3f}" for v in (s.p50_ms, s.p90_ms, s.mean_ms, s.min_ms,
                                                        s.max_ms, s.iqr_ms)),
                     str(s.n), "yes" if m.cached else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
    return 0
