"""`edgeprune export WINNER_DIR --format onnx,tflite[,int8]`: re-export, re-verify, re-measure.

WINNER_DIR holds a pruned model (`model.json` + `model.safetensors`, from pipeline.prune) and
its `manifest.json`. The data set is reloaded from the manifest's `data` config and `seed`, so
parity and int8 accuracy are checked on the same test split the run used. A folder written by
`edgeprune prune` has no manifest and no data: parity is checked on random inputs, accuracy is
not measured (the manifest and the output say so) and int8 is refused.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.errors import UserError


def register(sub):
    p = sub.add_parser("export", help="export a winner folder to ONNX / TFLite (fp32, int8), "
                       "verify against PyTorch, measure on the device, update its manifest")
    p.add_argument("winner_dir", help="a winner folder (model.json, model.safetensors, manifest.json)")
    p.add_argument("--format", default="onnx,tflite",
                   help="comma list of onnx, tflite, and int8 for int8 copies (default onnx,tflite)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--max-int8-drop", type=float, default=0.01,
                   help="largest accuracy loss of an int8 file, as a fraction (default 0.01)")
    p.add_argument("--device", help="device profile to measure the files on (default: the "
                   "manifest's device)")
    p.add_argument("--no-measure", action="store_true", help="skip the latency measurement")
    p.add_argument("--model", metavar="REF", help="when model.json names your own "
                   "package.module:factory: that reference again (a file's name is never imported)")
    p.set_defaults(func=run)


def data_config_from(manifest: dict, winner_dir: Path):
    """The run's DataConfig and seed: manifest['data'] / ['seed'], else a config.toml nearby."""
    from pipeline.config import DataConfig, load_config

    if isinstance(manifest.get("data"), dict):
        known = DataConfig.__dataclass_fields__
        unknown = sorted(set(manifest["data"]) - set(known))
        if unknown:
            raise UserError(f"manifest.json 'data' has unknown keys {unknown}; expected some of "
                            f"{sorted(known)}")
        # Through the config's own parser: each value is checked against its field's type.
        seed = manifest.get("seed", 0)
        try:
            cfg = load_config(overrides=[f"seed={seed}"] + [
                f"data.{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                for k, v in manifest["data"].items()])
        except UserError as exc:
            raise UserError(f"'{winner_dir}/manifest.json': {exc}") from None
        return cfg.data, cfg.seed
    for folder in (winner_dir, *list(winner_dir.resolve().parents)[:2]):
        if (folder / "config.toml").is_file():
            cfg = load_config(folder / "config.toml")
            return cfg.data, cfg.seed
    raise UserError(f"'{winner_dir}/manifest.json' has no 'data' section and no config.toml is "
                    "next to it; add the run's data config (e.g. {\"data\": {\"name\": \"digits\"}})")


def run(args) -> int:
    from pipeline.export import parse_formats, read_manifest, verify_bundle
    from pipeline.prune import read_record
    from pipeline.prune.saving import trusted_base_ref

    from pipeline.paths import user_path

    winner = user_path(args.winner_dir, "winner folder", "dir",
                       "pass a winner folder such as runs/X/winners/1")
    formats, int8 = parse_formats(args.format)  # bad --format fails before any slow work
    _check_opset(args.opset)
    if not 0 <= args.max_int8_drop < 1:
        raise UserError(f"--max-int8-drop must be a fraction in [0, 1) (0.01 = 1 point), got "
                        f"{args.max_int8_drop}")
    if (winner / "model.json").is_file():   # a user model named by the file is refused first
        trusted_base_ref(read_record(winner), args.model, winner)
    for name in ("model.json", "model.safetensors"):
        if not (winner / name).is_file():
            raise UserError(f"'{winner}' is incomplete: {name} is missing; the winner folder needs "
                            "the pruned model saved by `edgeprune run`/`prune`")
    if (winner / "manifest.json").is_file():
        manifest = verify_bundle(winner) if "files" in read_manifest(winner) else \
            read_manifest(winner)
        # A prune folder exported before has a manifest saying it has no data.
        data_cfg, seed = (None, 0) if manifest.get("accuracy_measured") is False else \
            data_config_from(manifest, winner)
    else:  # an `edgeprune prune` folder: no data came with it
        manifest, data_cfg, seed = {}, None, 0
    if data_cfg is None and int8:
        raise UserError(f"'{winner}' has no data (an `edgeprune prune` folder): int8 needs "
                        "calibration data; export fp32 only (--format onnx,tflite), or export a "
                        "winner of `edgeprune run`")
    device_name = None if args.no_measure else (args.device or manifest.get("device"))
    if device_name:
        from pipeline.devices import load_profile
        from pipeline.validate import check_board

        profile = load_profile(device_name)   # an unknown device or a board that is down
        if profile.backend == "ssh":          # fails before the data and the exports
            check_board(profile)
    artifacts = _export(winner, data_cfg, seed, formats, int8, args, device_name)
    failures = {k: a["error"] for k, a in artifacts.items() if a["error"]}
    _print_table(artifacts)
    if data_cfg is None:
        from pipeline.export.random_inputs import NOTE

        print(f"note: {NOTE}")
    if failures:
        raise UserError("; ".join(f"{k}: {msg}" for k, msg in failures.items())
                        + " (files that failed were not replaced; the folder keeps its earlier ones)")
    return 0


def _check_opset(opset: int) -> None:
    from torch.onnx import _constants

    low, high = _constants.ONNX_MIN_OPSET, _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET
    if not low <= opset <= high:
        raise UserError(f"--opset {opset} is not one this exporter writes; pass {low} to {high} "
                        "(default 17)")


def _export(winner, data_cfg, seed, formats, int8, args, device_name) -> dict:
    import contextlib

    from pipeline.data import first_conv_in_channels, load_data
    from pipeline.export import export_winner, read_manifest, write_bundle
    from pipeline.progress import status
    from pipeline.prune import load_pruned

    model, _ = load_pruned(winner, args.model)
    if data_cfg is None:
        from pipeline.export.random_inputs import NOTE, bundle_manifest, random_splits
        from pipeline.prune.saving import read_record

        record = read_record(winner)
        splits = random_splits(record["input_shape"], int(record.get("num_classes", 10)), seed)
        status(f"export: {NOTE}")
    else:
        splits = load_data(data_cfg, seed, in_channels=first_conv_in_channels(model))
    with contextlib.ExitStack() as stack:
        device = None
        if device_name:
            from pipeline.devices import open_device

            # No cache: an exported file is measured again, not looked up by architecture.
            device = stack.enter_context(open_device(device_name))
        status(f"export: {', '.join(formats)}{' + int8' if int8 else ''} -> {winner}")
        artifacts = export_winner(model, winner, splits, formats=formats, int8=int8,
                                  opset=args.opset, device=device, seed=seed,
                                  max_int8_drop=args.max_int8_drop)
    if data_cfg is None:
        for entry in artifacts.values():
            entry["accuracy"] = None  # the placeholder labels measure nothing
            entry["parity_inputs"] = "random"
        manifest = {**bundle_manifest(record), "artifacts": artifacts}
        write_bundle(winner, manifest)  # no sample images: there are none to take
        return artifacts
    manifest = read_manifest(winner)
    old = manifest.get("artifacts") or {}
    # Formats not asked for, or that failed this time, keep their earlier entries: their
    # verified files were not replaced (export_winner writes under a temporary name).
    new = {k: a for k, a in artifacts.items() if not a["error"] or k not in old}
    if any(not a["error"] for a in artifacts.values()):
        manifest["artifacts"] = {**old, **new}
        write_bundle(winner, manifest, splits=splits)
    return artifacts


def _print_table(artifacts: dict) -> None:
    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    rows = [("FORMAT", "FILE", "MAX|DIFF|", "TOP-1 AGREE", "ACCURACY", "P50 MS")]
    for key, a in artifacts.items():
        latency = (a.get("latency_ms") or {}).get("p50")
        rows.append((key, a["path"] or "FAILED", fmt(a["max_abs_diff"], ".2e"),
                     fmt(a["top1_agreement"], ".4f"), fmt(a["accuracy"], ".4f"),
                     fmt(latency, ".3f")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
