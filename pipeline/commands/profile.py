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


def distinct_names(paths) -> dict:
    """Each path by its shortest tail that no other path shares (two winners' model.onnx
    read winners/knee/model.onnx and winners/fastest/model.onnx, not model.onnx twice)."""
    names = {}
    for path in paths:
        parts = path.absolute().parts
        for n in range(1, len(parts) + 1):
            tail = parts[-n:]
            if all(other == path or other.absolute().parts[-n:] != tail for other in paths):
                break
        names[path] = "/".join(tail)
    return names


def run(args) -> int:
    from pipeline.devices.cache import MeasurementCache
    from pipeline.devices.device import open_device
    from pipeline.devices.model_info import model_input_shape, parse_shape
    from pipeline.devices.profile import load_profile
    from pipeline.errors import UserError
    from pipeline.paths import show_path, user_path

    profile = load_profile(args.device)
    paths = [user_path(m, "model file", "file", "pass .onnx or .tflite files") for m in args.models]
    # A profile's numbers are for its runtime: an .onnx file on a TFLite profile is refused.
    wanted = profile.extension
    wrong = [show_path(p) for p in paths if p.suffix.lower() != wanted]
    if wrong:
        raise UserError(f"device '{profile.name}' runs {profile.runtime}, which measures {wanted} "
                        f"files; {', '.join(wrong)} is not one: pass {wanted} files or a profile "
                        "for that format")
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
    names = distinct_names(paths)
    for path, m in zip(paths, measurements):
        s = m.stats
        rows.append((names[path], *(f"{v:.3f}" for v in (s.p50_ms, s.p90_ms, s.mean_ms, s.min_ms,
                                                        s.max_ms, s.iqr_ms)),
                     str(s.n), "yes" if m.cached else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
    return 0
