"""`edgeprune deploy WINNER_DIR --device NAME`: copy the bundle to an SSH board, run predict.py
there on the bundle's sample images, and check its answers against the manifest.

The bundle is verified (sha256) before it leaves this machine and again on the board after the
copy; predict.py needs only numpy and the runtime on the board.
"""
from __future__ import annotations

import json
import posixpath
from pathlib import Path

from pipeline.errors import DeviceError, UserError

# predict.py's exit code when the runtime for a format is not installed on the board.
EXIT_NO_RUNTIME = 3
# Prints {relative path: sha256} of a folder's files, with the board's own Python.
REMOTE_SHA256 = """
import hashlib, json, os, sys
root = sys.argv[1]
out = {}
for name in json.loads(sys.argv[2]):
    with open(os.path.join(root, name), "rb") as f:
        out[name] = hashlib.sha256(f.read()).hexdigest()
print(json.dumps(out))
"""


def register(sub):
    p = sub.add_parser("deploy", help="copy a winner bundle to an SSH board, run predict.py there "
                       "and check its answers against the manifest")
    p.add_argument("winner_dir", help="a winner folder with manifest.json, predict.py, samples.npy")
    p.add_argument("--device", required=True, help="SSH device profile name or .toml path")
    p.add_argument("--format", help="comma list of artifact keys to check (default: all in the "
                   "manifest, e.g. onnx,tflite,onnx_int8)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from pipeline.devices import load_profile
    from pipeline.export import verify_bundle

    from pipeline.paths import user_path

    bundle = user_path(args.winner_dir, "winner folder", "dir",
                       "pass a winner folder such as runs/X/winners/1")
    manifest = verify_bundle(bundle)
    samples = manifest.get("samples") or {}
    if not samples.get("expected_top1") or samples.get("path") not in manifest["files"]:
        raise UserError(f"'{bundle}/manifest.json' has no sample images with expected answers; "
                        "re-run `edgeprune export` on the folder to add them")
    artifacts = {k: a for k, a in (manifest.get("artifacts") or {}).items() if a.get("path")}
    if args.format:
        wanted = [k.strip() for k in args.format.split(",") if k.strip()]
        unknown = [k for k in wanted if k not in artifacts]
        if unknown:
            raise UserError(f"--format {','.join(unknown)}: not in this bundle; it has "
                            f"{', '.join(artifacts) or 'no model files'}")
        artifacts = {k: artifacts[k] for k in wanted}
    if not artifacts:
        raise UserError(f"'{bundle}' holds no model files; run `edgeprune export` on it first")
    profile = load_profile(args.device)
    if profile.backend != "ssh":
        raise UserError(f"device '{profile.name}' is not an SSH board (backend = "
                        f"{profile.backend}); deploy needs a profile with backend = \"ssh\"")
    results = deploy_bundle(bundle, manifest, artifacts, profile)
    _report(results, args.json)
    if profile.emulated and not args.json:
        # The answers of an emulated CPU vouch for the aarch64 runtimes, not for every real CPU.
        print(f"note: {profile.name} is EMULATED ({profile.description.split(':')[0]}); its "
              "answers prove the aarch64 runtimes and the emulated CPU's kernels, not a real "
              "board's")
    checked = [r for r in results.values() if r["status"] != "no runtime"]
    bad = [f"{k}: {r['status']}" for k, r in results.items() if r["status"] not in ("ok", "no runtime")]
    if bad:
        raise DeviceError(f"{profile.name}: " + "; ".join(bad))
    if not checked:
        raise DeviceError(f"{profile.name}: no runtime for any of {', '.join(results)} on the "
                          "board; install onnxruntime or ai-edge-litert there (pip install ...)")
    return 0


def deploy_bundle(bundle: Path, manifest: dict, artifacts: dict, profile) -> dict:
    """Copy, verify on the board, run predict.py per artifact; {key: {status, ...}}."""
    from pipeline.devices import ssh
    from pipeline.export.bundle import PREDICT, TEMPLATE, sha256_file
    from pipeline.progress import status

    # The script run on the board is this package's predict.py, never the bundle's copy: a
    # bundle is data, and one handed over by someone else could carry any code (its manifest
    # would list that code's sha256 just as well).
    sources = {name: bundle / name for name in [*manifest["files"], "manifest.json"]}
    sums = dict(manifest["files"])
    if PREDICT in sources:
        sources[PREDICT], sums[PREDICT] = TEMPLATE, sha256_file(TEMPLATE)
    session = ssh.connect(profile)
    try:
        remote = session.mkdtemp()  # removed again by close()
        files = sorted(manifest["files"])
        for subdir in sorted({posixpath.dirname(f) for f in files} - {""}):
            _check(session, ["mkdir", "-p", posixpath.join(remote, subdir)], profile)
        status(f"deploy: copying {len(files) + 1} files to {profile.name}:{remote}")
        for name in [*files, "manifest.json"]:
            session.put(sources[name], posixpath.join(remote, name))
        remote_sums = json.loads(_check(session, [profile.python, "-c", REMOTE_SHA256, remote,
                                                  json.dumps(files)], profile))
        changed = [f for f in files if remote_sums.get(f) != sums[f]]
        if changed:
            raise DeviceError(f"{profile.name}: {', '.join(changed)} arrived corrupted (sha256 "
                              "differs after the copy); check the board's disk and retry")
        expected = manifest["samples"]["expected_top1"]
        sample_path = posixpath.join(remote, manifest["samples"]["path"])
        results = {}
        for key, artifact in artifacts.items():
            argv = [profile.python, posixpath.join(remote, "predict.py"), "--model",
                    artifact["path"], "--input", sample_path, "--json"]
            rc, out, err = session.run(argv, timeout_s=profile.run_timeout_s)
            results[key] = _judge(rc, out, err, expected.get(key))
            status(f"deploy: {key} on {profile.name}: {results[key]['status']}")
        return results
    finally:
        session.close()


def _check(session, argv, profile) -> str:
    rc, out, err = session.run(argv, timeout_s=profile.run_timeout_s)
    if rc != 0:
        raise DeviceError(f"{profile.name}: `{' '.join(argv[:2])}` failed on the board (exit {rc}): "
                          f"{err.decode(errors='replace').strip()[-300:]}")
    return out.decode()


def _judge(rc: int, out: bytes, err: bytes, expected: list[int] | None) -> dict:
    message = err.decode(errors="replace").strip()
    if rc == EXIT_NO_RUNTIME:
        return {"status": "no runtime", "detail": message[-300:]}
    if rc != 0:
        return {"status": f"predict.py failed (exit {rc}): {message[-300:]}"}
    try:
        answer = json.loads(out.decode().strip().splitlines()[-1])
        got = [p["top1"] for p in answer["predictions"]]
    except (ValueError, IndexError, KeyError, TypeError):
        return {"status": f"predict.py printed no JSON answer: {out.decode()[-200:]!r}"}
    if expected is None:
        return {"status": "no expected answers in the manifest", "top1": got}
    wrong = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    if len(got) != len(expected) or wrong:
        return {"status": f"answers differ on samples {wrong or 'count'} (board {got}, "
                f"manifest {expected})", "top1": got}
    return {"status": "ok", "top1": got, "matched": len(got)}


def _report(results: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for key, result in results.items():
        matched = f" ({result['matched']} samples match)" if "matched" in result else ""
        print(f"{key}: {result['status']}{matched}")
