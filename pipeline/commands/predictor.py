"""`edgeprune predictor fit|eval`: the per-device latency predictor of one model."""
from __future__ import annotations

import json

from pipeline.commands.prune import add_model_arguments


def register(sub):
    p = sub.add_parser("predictor", help="latency predictor learned from a device's own "
                       "measurements: `predictor fit` or `predictor eval`")
    actions = p.add_subparsers(dest="predictor_action", metavar="ACTION", required=True)
    fit = actions.add_parser("fit", help="measure random architectures of the model, fit the "
                             "predictor, store it in the latency cache")
    fit.add_argument("--n", type=int, default=200,
                     help="architectures to fit on, a stored predictor's included (default 200)")
    fit.add_argument("--fresh", action="store_true",
                     help="ignore the stored predictor and its samples")
    ev = actions.add_parser("eval", help="measure fresh random architectures (not used in "
                            "fitting) and report the stored predictor's errors")
    ev.add_argument("--n", type=int, default=100, help="architectures to measure (default 100)")
    ev.add_argument("--plot", default="predictor-eval.png", metavar="PNG",
                    help="scatter plot of predicted vs measured (default predictor-eval.png)")
    ev.add_argument("--json", default="", metavar="FILE", help="also write the result as JSON")
    for action in (fit, ev):
        action.add_argument("--device", required=True, help="profile name or .toml")
        action.add_argument("--model", required=True, metavar="REF",
                            help="zoo name, package.module:factory, or torchvision:NAME")
        add_model_arguments(action)
        action.add_argument("--min-keep", type=float, default=0.0,
                            help="smallest fraction of a group's channels drawn (default 0: down "
                                 "to one channel, as far as the search goes)")
        action.add_argument("--seed", type=int, default=0)
        action.add_argument("--passes", type=int, default=2,
                            help="times each architecture is measured, one pass over all after "
                                 "the other; the fastest pass counts (default 2; 1 halves the "
                                 "device time on a quiet board)")
    p.set_defaults(func=run)


def run(args) -> int:
    import tempfile

    from pipeline.commands.prune import load_user_model
    from pipeline.devices import MeasurementCache, load_profile, open_device
    from pipeline.errors import UserError
    from pipeline.predictor.session import check_sampling, eval_on_device, fit_on_device
    from pipeline.prune import SearchSpace

    check_sampling(args.n, args.min_keep)
    if args.passes < 1:
        raise UserError(f"--passes must be at least 1, got {args.passes}")
    if args.predictor_action == "eval" and not args.plot.lower().endswith(".png"):
        raise UserError(f"--plot must name a .png file, got '{args.plot}'")
    profile = load_profile(args.device)
    model, example, shape, _ = load_user_model(args)
    space = SearchSpace.from_model(model, example, ignore=tuple(args.ignore), round_to=args.round_to)
    if not space.groups:
        raise UserError(f"model '{args.model}' has no prunable channel groups; check --ignore")
    cache = MeasurementCache()
    try:
        # the exported files live as long as the device session (it re-measures the first)
        with tempfile.TemporaryDirectory(prefix="edgeprune-predictor-") as workdir, \
                open_device(profile, cache) as device:
            if args.predictor_action == "fit":
                _, report = fit_on_device(model, space, example, device, cache, workdir, args.n,
                                          args.seed, args.min_keep, args.fresh, args.passes)
                return _print_fit(profile.name, shape, report)
            result = eval_on_device(model, space, example, device, cache, workdir, args.n,
                                    args.seed, args.min_keep, args.passes)
    finally:
        cache.close()
    return _report_eval(args, profile.name, shape, result)


def _print_fit(device: str, shape, report) -> int:
    cv = report.chosen["cv"][f"{report.chosen['feature_set']}/{report.chosen['regressor']}"]
    start = "started from the stored predictor, " if report.reused else ""
    print(f"{device}, input {list(shape)}: {start}{report.added} new architecture(s), "
          f"{report.measured} measured now ({report.passes} pass(es), the fastest counts), in "
          f"chunks between timings of the unpruned model, in {report.seconds:.1f} s")
    scale = "latency relative to the unpruned model" if report.relative else "absolute latency"
    print(f"fitted on {report.samples} measurements ({scale}): {report.chosen['feature_set']} features, "
          f"{report.chosen['regressor']} regression; cross-validated {cv['within_10pct']:.0%} "
          f"within ±10%, median error {cv['median_abs_rel']:.1%}; stored in the latency cache")
    return 0


def _report_eval(args, device: str, shape, result: dict) -> int:
    import os
    from pathlib import Path

    from pipeline.predictor.evaluation import plot_scatter

    plot = plot_scatter(result, args.plot, f"{args.model} on {device}, input {list(shape)}")
    if args.json:
        path = Path(args.json)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(dict(result, device=device, model=args.model,
                                       input_shape=list(shape)), indent=2) + "\n")
        os.replace(tmp, path)
    print(f"{device}, input {list(shape)}: {result['n']} fresh architecture(s) "
          f"({result['measured']} measured now) against a predictor fitted on "
          f"{result['fitted_on']}, in {result['seconds']:.1f} s")
    print(f"within ±5%: {result['within_5pct']:.1%}  within ±10%: {result['within_10pct']:.1%}  "
          f"median error: {result['median_abs_rel']:.1%}  worst: {result['worst_abs_rel']:.1%}")
    repeat = result.get("repeatability")
    if repeat:
        print(f"the device against itself ({result['passes']} passes per architecture): "
              f"{repeat['within_10pct']:.1%} of the architectures' passes within ±10% of each "
              f"other, median spread {repeat['median_abs_rel']:.1%}, worst "
              f"{repeat['worst_abs_rel']:.1%}; no predictor can beat the device's own repeatability")
    print(f"scatter plot: {plot}")
    return 0
