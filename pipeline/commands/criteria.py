"""`edgeprune criteria`: how the importance criteria agree, and the blend a GA finds for them."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("criteria", help="agreement of the importance criteria, their clusters, "
                       "and blend weights found by an evolutionary search")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="config overrides (criteria.* keys tune the study)")
    p.add_argument("--config", metavar="FILE", help="TOML config, as for `run`")
    p.add_argument("--out", metavar="DIR", help="folder for criteria.json and criteria.png "
                   "(default runs/<ts>)")
    p.add_argument("--json", action="store_true", help="print criteria.json's content")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from pipeline.config import load_config, write_config
    from pipeline.devices import load_profile
    from pipeline.prune.importance import get_importance
    from pipeline.run import prepare_out_dir

    cfg = load_config(args.config, args.overrides)
    for name in cfg.criteria.names:
        get_importance(name)            # a typo fails before any training
    round_to = cfg.search.round_to or load_profile(cfg.device).round_to
    run_dir = prepare_out_dir(args.out)
    write_config(cfg, run_dir / "config.toml")
    study = _study(cfg, round_to)
    from pipeline.criteria.study import write_study

    path, png = write_study(study, run_dir)
    if args.json:
        print(json.dumps(study.to_dict(), indent=2))
    else:
        print(format_study(study))
    print(f"criteria written to {path} and {png}")
    return 0


def _study(cfg, round_to: int):
    import torch

    from pipeline.criteria.study import run_study
    from pipeline.prune import SearchSpace
    from pipeline.run import load_inputs
    from pipeline.search.fitness import calibration_batches

    splits, base_model, _ = load_inputs(cfg)
    space = SearchSpace.from_model(base_model, torch.zeros(splits.input_shape),
                                   ignore=tuple(cfg.model.ignore), round_to=round_to)
    batches = calibration_batches(splits, cfg.search.calib_batches, cfg.seed)
    return run_study(base_model, splits, space, cfg.criteria, batches, cfg.seed)


def format_study(study) -> str:
    names = study.criteria
    width = max(len(n) for n in names) + 2
    lines = [f"agreement (mean per-group {study.correlation} rank correlation):",
             " " * width + "".join(f"{n:>8}" for n in names)]
    for name, row in zip(names, study.matrix):
        lines.append(f"{name:<{width}}" + "".join(f"{v:8.2f}" for v in row))
    lines.append("clusters: " + " | ".join(", ".join(c) for c in study.clusters))
    lines.append("representatives: " + ", ".join(study.representatives))
    reps = study.representatives
    lines.append(f"candidates ({len(study.candidates)}, fitness = mean step-1 accuracy on "
                 f"{study.search_images} validation images over {', '.join(study.targets)}):")
    for c in sorted(study.candidates, key=lambda c: -c["fitness"]):
        weights = " ".join(f"{r}={w:.2f}" for r, w in zip(reps, c["weights"]))
        lines.append(f"  gen {c['generation']}  {weights}  fitness {100 * c['fitness']:.2f}%")
    chosen = " ".join(f"{r}={w:.2f}" for r, w in zip(study.blend["criteria"],
                                                      study.blend["weights"]))
    lines.append(f"chosen weights: {chosen} (search fitness {100 * study.fitness:.2f}%)")
    lines.append(f"held-out check ({study.holdout_images} other validation images):")
    for name, accs in study.holdout.items():
        mean = sum(accs.values()) / len(accs)
        per = ", ".join(f"{k} {100 * v:.2f}%" for k, v in accs.items())
        lines.append(f"  {name:<8} mean {100 * mean:.2f}%  ({per})")
    lines.append(f"cost: {study.seconds:.1f} s in all, weight search {study.search_seconds:.1f} s "
                 f"for {study.search_evaluations} pruned models")
    return "\n".join(lines)
