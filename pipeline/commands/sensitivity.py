"""`edgeprune sensitivity`: each prunable group pruned alone, accuracy drop and latency change."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("sensitivity", help="per-layer sensitivity: accuracy drop and measured "
                       "latency change when each group alone is pruned")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    p.add_argument("--config", metavar="FILE", help="TOML config, as for `run`")
    p.add_argument("--out", metavar="DIR", help="folder for sensitivity.json (default runs/<ts>)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from pipeline.config import load_config, write_config
    from pipeline.devices import MeasurementCache, load_profile, open_device
    from pipeline.recover.compute import compute_for, use
    from pipeline.run import load_inputs, prepare_out_dir
    from pipeline.search import sensitivity as sens
    from pipeline.search_stage import prepare_search, sensitivity_rows

    cfg = load_config(args.config, args.overrides)
    profile = load_profile(cfg.device)
    compute = compute_for(cfg.train.device, cfg.train.amp)  # a missing GPU fails before work
    run_dir = prepare_out_dir(args.out)
    write_config(cfg, run_dir / "config.toml")
    with use(compute):
        splits, base_model, base_info = load_inputs(cfg)
    with use(compute), open_device(profile, cache=MeasurementCache()) as device:
        space, evaluator, baseline, _ = prepare_search(cfg, profile, device, base_model,
                                                       base_info, splits, run_dir)
        rows = sensitivity_rows(cfg, evaluator, space, baseline, run_dir)
    if args.json:
        print(json.dumps(sens.to_json(rows), indent=2))
    print(f"sensitivity written to {run_dir / 'sensitivity.json'}")
    return 0
