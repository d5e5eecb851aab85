"""`edgeprune run`: the main job."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser(
        "run", help="prune a trained CNN by measured latency and export deployable bundles",
        description="Train or load a model, search per-layer channel counts by latency measured "
        "on the device, distill the winners, export verified ONNX/TFLite bundles. With no "
        "arguments: ResNet-20 on scikit-learn's digits, device profile host-ort.")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="config overrides, e.g. search.generations=4 device=host-tflite")
    p.add_argument("--config", metavar="FILE", help="TOML config (see --help-config)")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<timestamp>/)")
    p.add_argument("--resume", metavar="DIR", help="continue an interrupted run in DIR")
    p.add_argument("--model", help="shortcut for model.name= (zoo name or package.module:factory)")
    p.add_argument("--weights", help="shortcut for model.weights= (.pt/.pth/.safetensors)")
    p.add_argument("--device", help="shortcut for device= (profile name or .toml path)")
    p.add_argument("--help-config", action="store_true", help="list every config key and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from pipeline.config import describe_keys, load_config
    from pipeline.errors import UserError
    from pipeline.run import load_run_config, run_job
    from pipeline.run_folder import check_resumable, new_run_dir

    if args.help_config:
        print(describe_keys())
        return 0
    overrides = list(args.overrides)
    for key, value in (("model.name", args.model), ("model.weights", args.weights),
                       ("device", args.device)):
        if value:
            overrides.append(f"{key}={value}")
    if args.resume:
        # --model alone is allowed: it confirms a user model the run folder's config names.
        extra = [o for o in overrides if not o.startswith("model.name=") or not args.model]
        if args.config or extra or args.out:
            raise UserError("--resume takes the run folder's own config; drop --config, --out "
                            "and key=value overrides")
        run_dir, complete = check_resumable(args.resume)
        if complete:
            print(f"run {run_dir} is already complete; nothing to do (results: "
                  f"{run_dir / 'report.html'})")
            return 0
        cfg = load_run_config(run_dir)
        from pipeline.models.loading import refuse_untrusted_ref

        refuse_untrusted_ref(cfg.model.name, args.model, f"{run_dir}/config.toml", "resume with")
    else:
        cfg = load_config(args.config, overrides)
        run_dir = new_run_dir(args.out)   # checked; created by run_job once inputs are valid
    print(f"run folder: {run_dir}", flush=True)
    summary = run_job(cfg, run_dir, resume=bool(args.resume))
    print(format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    b = summary["baseline"]
    lines = [f"\nresults in {summary['run_dir']}",
             f"{'model':<22} {'test acc':>9} {'p50 ms':>8} {'p90 ms':>8} {'speedup':>8} "
             f"{'params':>9} {'MMACs':>7}"]
    b50 = (b.get("latency_ms") or {}).get("p50")
    b90 = (b.get("latency_ms") or {}).get("p90")
    lines.append(f"{'baseline':<22} {100 * b['accuracy_test']:>8.2f}% {_f(b50):>8} {_f(b90):>8} "
                 f"{'1.00x':>8} {b['params']:>9} {b['macs'] / 1e6:>7.2f}")
    for w in summary["winners"]:
        p50, p90 = w["latency_ms"].get("p50"), w["latency_ms"].get("p90")
        speed = f"{b50 / p50:.2f}x" if p50 and b50 else "-"
        lines.append(f"{w['id']:<22} {100 * w['accuracy']:>8.2f}% {_f(p50):>8} {_f(p90):>8} "
                     f"{speed:>8} {w['params']:>9} {w['macs'] / 1e6:>7.2f}")
    if summary.get("data"):
        d = summary["data"]
        lines.append(f"data: {d['name']}, {d['train']} train / {d['val']} val / {d['test']} test; "
                     f"{d['split_source']}")
    if summary["winners"]:
        w = summary["winners"][0]
        fmt = w.get("latency_format") or "onnx"
        lines.append(f"p50/p90: the {fmt} files (fp32) on {w.get('device', 'the device')}, its "
                     "runtime's format, baseline measured the same way")
    for w in summary["winners"]:
        files = []
        for fmt, art in w.get("artifacts", {}).items():
            if art.get("error") or not art.get("path"):
                files.append(f"{fmt} failed ({art.get('error') or 'not produced'})")
                continue
            acc = f"{100 * art['accuracy']:.2f}%" if art.get("accuracy") is not None else "-"
            files.append(f"{fmt} {acc} {_f((art.get('latency_ms') or {}).get('p50'))} ms")
        lines.append(f"  {w['id']} files: " + ", ".join(files))
        slower = [fmt for fmt, art in w.get("artifacts", {}).items() if art.get("slower_than_fp32")]
        if slower:
            lines.append(f"  {w['id']}: {', '.join(slower)} measured slower than fp32 on this "
                         "device; deploy the fp32 file")
    return "\n".join(lines)


def _f(v) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) else "-"
