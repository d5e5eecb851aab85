"""`edgeprune devices` lists the device profiles; `edgeprune devices check NAME` tests one."""
from __future__ import annotations

import json


def register(sub):
    p = sub.add_parser("devices", help="list device profiles, or check one (`devices check NAME`)")
    actions = p.add_subparsers(dest="devices_action", metavar="ACTION")
    check = actions.add_parser("check", help="reach the device, find Python and the runtime")
    check.add_argument("device", help="profile name in device_profiles/ or a .toml path")
    check.add_argument("--json", action="store_true", help="print the device facts as JSON")
    p.set_defaults(func=run)


def _list() -> int:
    from pipeline.devices.profile import list_profiles, load_profile
    from pipeline.errors import UserError

    rows = [("NAME", "BACKEND", "RUNTIME", "THREADS", "CORES", "TARGET")]
    for name in list_profiles():
        try:
            p = load_profile(name)
        except UserError as exc:
            rows.append((name, "!", "!", "", "", str(exc)))
            continue
        target = f"{p.user}@{p.host}:{p.port}" if p.backend == "ssh" else "this host"
        rows.append((p.name, p.backend, p.runtime, str(p.threads),
                     ",".join(map(str, p.cores)) or "-", target))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def _check(args) -> int:
    from pipeline.devices.device import open_device
    from pipeline.devices.profile import load_profile

    profile = load_profile(args.device)
    with open_device(profile) as device:
        facts = device.check()  # raises DeviceError with the fix for each failing step
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    where = (f"ssh {profile.user}@{profile.host}:{profile.port}" if profile.backend == "ssh"
             else "local process")
    pool = facts.get("pool")
    if pool:  # a pool of boards: the facts below are its first usable board's
        where = f"ssh {profile.user}@ {', '.join(pool['boards'])}"
        for label, why in pool["set_aside"].items():
            print(f"warning: board {label} set aside: {why}")
    runtimes = facts["runtimes"]
    lines = [
        ("reachable, authenticated", f"yes ({where})"),
        ("python", f"{facts['python']} ({facts['python_version']})"),
        ("numpy", facts["numpy"]),
        ("onnxruntime", runtimes.get("onnxruntime") or "missing"),
        ("tflite (ai-edge-litert)", runtimes.get("tflite") or "missing"),
        ("profile runtime", f"{profile.runtime} {runtimes[profile.runtime]}"),
        ("cpu", f"{facts['cpu']} ({facts['machine']}, {facts['cpu_count']} cores)"),
        ("board", facts.get("board") or "-"),
        ("pinned cores", ",".join(map(str, facts["cores"])) or "none"),
        ("governor", facts.get("governor") or "unknown"),
        ("temperature", f"{facts['temperature_c']:.1f} C" if facts.get("temperature_c")
         is not None else "unknown"),
        ("throttled", f"{facts['throttled']:#x}" if facts.get("throttled") is not None
         else "unknown"),
    ]
    print(f"{profile.name}: OK")
    for label, value in lines:
        print(f"  {label:<26}{value}")
    if profile.backend == "ssh" and facts.get("governor") not in (None, "performance"):
        print(f"  warning: CPU governor is {facts['governor']!r}; set 'performance' for "
              "stable latency (see the profile's setup)")
    for step in profile.setup:
        print(f"  setup: {step}")
    return 0


def run(args) -> int:
    if getattr(args, "devices_action", None) == "check":
        return _check(args)
    return _list()
