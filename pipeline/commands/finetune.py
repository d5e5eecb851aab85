"""`edgeprune finetune WINNER_DIR [--epochs N --method kd|sfp|asrfp|ghfp --seed S]`.

Recovers a winner's accuracy again, by distillation from the unpruned model (or by one of the
soft-to-hard schedules, which restart from it). The winner folder itself is never changed:
its manifest lists sha256 sums of the files it was exported from. The result goes to a new
folder (default `WINNER_DIR-<method>`), ready for `edgeprune export`.

The teacher is, in order: `--teacher FILE` (a state dict of the unpruned model), or the
baseline of the run the winner belongs to (`<run>/config.toml`, two folders up: its
`model.weights`, or the cached trained baseline, trained again if the cache is gone).
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import UserError

METHODS = ("kd", "sfp", "asrfp", "ghfp")


def register(sub):
    p = sub.add_parser("finetune", help="recover a winner's accuracy by distillation from the "
                       "unpruned model (kd) or a soft-to-hard schedule (sfp, asrfp, ghfp)")
    p.add_argument("winner_dir", help="a winner folder (model.json, model.safetensors, manifest.json)")
    p.add_argument("--method", choices=METHODS, default=None,
                   help="recovery method (default: the run's recover.method)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the run's recover.epochs)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the run's seed)")
    p.add_argument("--feature-weight", type=float, default=None,
                   help="weight of feature mimicry; 0 turns it off (default: the run's)")
    p.add_argument("--teacher", metavar="FILE",
                   help="state dict (.safetensors/.pt) of the unpruned model, when the winner "
                   "folder is not inside its run folder")
    p.add_argument("--out", metavar="DIR", help="where to save the result (default WINNER_DIR-METHOD)")
    p.add_argument("--model", metavar="REF", help="when model.json names your own "
                   "package.module:factory: that reference again (a file's name is never imported)")
    p.set_defaults(func=run)


def _read_manifest(winner: Path) -> dict:
    path = winner / "manifest.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise UserError(f"'{path}' is not valid JSON ({exc}); restore it from the run") from None


def _run_config(winner: Path):
    """The config of the run the winner came from, or None when it is not inside a run."""
    from pipeline.config import load_config

    for folder in list(winner.resolve().parents)[:2]:
        if (folder / "config.toml").is_file():
            return load_config(folder / "config.toml")
    return None


def _teacher(args, cfg, record: dict, splits):
    from pipeline.models import build_model, load_weights

    if args.teacher:
        from pipeline.prune.saving import trusted_base_ref

        model = build_model(trusted_base_ref(record, args.model, args.winner_dir),
                            splits.num_classes, splits.input_shape[1])
        load_weights(model, args.teacher)
        return model.eval()
    if cfg is None:
        raise UserError(f"'{args.winner_dir}' is not inside a run folder (no config.toml two levels "
                        "up); pass --teacher FILE with the unpruned model's weights")
    from pipeline.baseline import get_baseline

    model, _ = get_baseline(cfg, splits)
    return model


def _write_manifest(out: Path, manifest: dict, splits, data_cfg, split_seed: int, source: str,
                    recovery: dict, **measured) -> None:
    """A bundle manifest for the new folder, so `edgeprune export` and the report can use it.

    The architecture is the winner's, so its latencies still hold; its exported files do not
    (the weights changed), so they are left out until `edgeprune export` makes new ones.
    """
    from dataclasses import asdict

    from pipeline.export import write_bundle

    new = {k: v for k, v in manifest.items() if k not in ("artifacts", "files", "samples")}
    new.update(measured)
    new.update({"id": out.name, "reason": f"{manifest.get('reason', source)} + {recovery['method']}",
                "finetuned_from": source, "data": asdict(data_cfg), "seed": split_seed,
                "recovery": recovery, "artifacts": {}})
    write_bundle(out, new, splits=splits)


def run(args) -> int:
    import torch

    from pipeline.commands.export import data_config_from
    from pipeline.config import Config
    from pipeline.data import load_data
    from pipeline.progress import status
    from pipeline.prune import count_params_macs, load_pruned, read_record, save_pruned
    from pipeline.recover import evaluate, recover
    from pipeline.recover.compute import compute_for, use

    from pipeline.paths import user_path
    from pipeline.prune.saving import trusted_base_ref

    winner = user_path(args.winner_dir, "winner folder", "dir",
                       "pass a winner folder such as runs/X/winners/1")
    if args.epochs is not None and args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    if args.teacher:
        user_path(args.teacher, "--teacher", "file", "pass the unpruned model's state dict")
    if args.out:
        from pipeline.paths import out_dir

        out_dir(args.out)   # a file, or a path under one, is refused before the training
    record = read_record(winner)
    base_ref = trusted_base_ref(record, args.model, winner)   # before the data is loaded
    manifest = _read_manifest(winner)
    run_cfg = _run_config(winner)
    if run_cfg is not None:
        # The teacher is rebuilt from the trusted base, not from a name config.toml supplies.
        run_cfg.model.name = base_ref
    cfg = run_cfg or Config()
    compute = compute_for(cfg.train.device, cfg.train.amp)  # a missing GPU fails before work
    # the data split must be the run's (same seed), whatever seed the training uses
    data_cfg, split_seed = data_config_from(manifest, winner)
    seed = split_seed if args.seed is None else args.seed
    rcfg = cfg.recover
    rcfg.method = args.method or rcfg.method
    rcfg.epochs = args.epochs or rcfg.epochs
    if args.feature_weight is not None:
        rcfg.feature_weight = args.feature_weight

    splits = load_data(data_cfg, split_seed, in_channels=int(record["input_shape"][1]))
    student, meta = load_pruned(winner, args.model)
    teacher = _teacher(args, run_cfg, record, splits)
    example = torch.zeros(splits.input_shape)
    before = evaluate(student, splits.x_val, splits.y_val)
    status(f"finetune: {rcfg.method} for {rcfg.epochs} epochs (seed {seed}); val accuracy before "
           f"{100 * before:.2f}%, teacher {100 * evaluate(teacher, splits.x_val, splits.y_val):.2f}%")
    torch.manual_seed(seed)
    with use(compute):  # the run's train.device; the model comes back on the CPU for saving
        model, hist = recover(student, teacher, splits, rcfg, seed,
                              genome=dict(record["channels"]), example_inputs=example)
    after_val = evaluate(model, splits.x_val, splits.y_val)
    after_test = evaluate(model, splits.x_test, splits.y_test)
    params, macs = count_params_macs(model, example)
    out = Path(args.out) if args.out else winner.parent / f"{winner.name}-{rcfg.method}"
    recovery = {"method": rcfg.method, "epochs": rcfg.epochs, "seed": seed,
                "feature_weight": rcfg.feature_weight, **hist.to_dict()}
    meta.update({"finetuned_from": winner.name, "recovery": recovery})
    save_pruned(out, model, record["base_ref"], record["channels"], meta,
                num_classes=record.get("num_classes"), in_channels=record.get("in_channels"),
                input_shape=record.get("input_shape"))
    _write_manifest(out, manifest, splits, data_cfg, split_seed, winner.name, recovery,
                    accuracy=after_test, accuracy_val=after_val, params=params, macs=macs)
    status(f"finetune: val accuracy {100 * before:.2f}% -> {100 * after_val:.2f}% "
           f"(test {100 * after_test:.2f}%) in {hist.seconds:.0f} s; saved to {out}; "
           f"export it with `edgeprune export {out}`")
    return 0
