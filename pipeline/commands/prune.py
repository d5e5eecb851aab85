"""`edgeprune prune`: one pruning outside a search, by a uniform keep ratio or a channels file."""
from __future__ import annotations


def add_model_arguments(p) -> None:
    """The arguments that say which model to load; shared with `inspect`."""
    p.add_argument("--weights", metavar="FILE", help="state_dict (.pt/.pth/.safetensors) to load")
    p.add_argument("--input-shape", metavar="N,C,H,W",
                   help="example input shape (default 1,IN_CHANNELS,32,32)")
    p.add_argument("--num-classes", type=int, default=10, help="classes of a zoo model (default 10)")
    p.add_argument("--in-channels", type=int, default=None,
                   help="input channels of a zoo model (default: from --input-shape, else 3)")
    p.add_argument("--ignore", action="append", default=[], metavar="LAYER",
                   help="module name never pruned (with everything inside it); repeatable")
    p.add_argument("--round-to", type=int, default=1, metavar="N",
                   help="keep channel counts at multiples of N (default 1)")


def load_user_model(args):
    """(model in eval mode, example input, input shape, in_channels) from the shared arguments."""
    import torch

    from pipeline.models import build_model, check_input_shape, load_weights, parse_input_shape

    from pipeline.errors import UserError

    for flag, value in (("--in-channels", args.in_channels), ("--num-classes", args.num_classes),
                        ("--round-to", args.round_to)):
        if value is not None and value < 1:
            raise UserError(f"{flag} must be a positive integer, got {value}")
    shape = parse_input_shape(args.input_shape) if args.input_shape else None
    if shape and args.in_channels and shape[1] != args.in_channels:
        raise UserError(f"--in-channels {args.in_channels} differs from --input-shape's "
                        f"{shape[1]} channels; pass one of them, or make them agree")
    in_channels = args.in_channels or (shape[1] if shape else 3)
    shape = shape or (1, in_channels, 32, 32)
    model = build_model(args.model, num_classes=args.num_classes, in_channels=in_channels)
    if args.weights:
        load_weights(model, args.weights)
    check_input_shape(model, shape)
    return model.eval(), torch.zeros(shape), shape, in_channels


def register(sub):
    p = sub.add_parser("prune", help="prune a model once (uniform keep ratio or a channels file) "
                       "and save it as model.json + model.safetensors")
    p.add_argument("--model", required=True, metavar="REF",
                   help="zoo name (see `edgeprune inspect --list`), package.module:factory, "
                   "or torchvision:NAME")
    add_model_arguments(p)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--ratio", type=float, metavar="KEEP",
                     help="fraction of channels every group keeps, in (0, 1]")
    how.add_argument("--channels", metavar="FILE",
                     help="JSON {group name: channels kept}; groups not listed keep all")
    p.add_argument("--importance", default="l1",
                   help="which channels go: l1, l2, fpgm, bn (taylor needs data: use `run`)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the pruned model to")
    p.set_defaults(func=run)


def _read_channels(path: str) -> dict:
    import json
    from pathlib import Path

    from pipeline.errors import UserError

    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except ValueError as exc:
        raise UserError(f"channels file '{path}' is not valid JSON ({exc})") from None
    # accept a saved model.json too: its "channels" entry is the genome
    data = data.get("channels", data) if isinstance(data, dict) else data
    if not isinstance(data, dict):
        raise UserError(f"channels file '{path}' must hold a JSON object {{group: channels}}")
    return data


def run(args) -> int:
    from pipeline.errors import UserError
    from pipeline.prune import SearchSpace, apply_genome, count_params_macs, get_importance, save_pruned

    from pipeline.paths import out_dir, user_path

    if args.ratio is not None and not 0 < args.ratio <= 1:
        raise UserError(f"--ratio must be in (0, 1] (the fraction of channels kept), got {args.ratio}")
    out_dir(args.out)   # refused before the pruning work, not after it
    if args.channels:
        user_path(args.channels, "channels file", "file", "pass a JSON file {group: channels}")
    get_importance(args.importance)  # fail on a typo before any work
    model, example, shape, in_channels = load_user_model(args)
    space = SearchSpace.from_model(model, example, ignore=tuple(args.ignore), round_to=args.round_to)
    if not space.groups:
        raise UserError(f"model '{args.model}' has no prunable channel groups; check --ignore")
    if args.ratio is not None:
        genome = space.uniform(args.ratio)
    else:
        genome = _read_channels(args.channels)
        space.validate(genome)
    pruned = apply_genome(model, genome, example, importance=args.importance)
    channels = {**space.full(), **genome}
    before, after = count_params_macs(model, example), count_params_macs(pruned, example)
    meta = {"importance": args.importance, "ratio": args.ratio, "weights": args.weights or "",
            "round_to": args.round_to, "ignore": list(args.ignore), "unprunable": list(space.unprunable),
            "params": after[0], "macs": after[1], "base_params": before[0], "base_macs": before[1]}
    save_pruned(args.out, pruned, args.model, channels, meta, num_classes=args.num_classes,
                in_channels=in_channels, input_shape=shape)
    print(f"params {before[0]:,} -> {after[0]:,} ({after[0] / before[0]:.1%}), "
          f"MACs {before[1]:,} -> {after[1]:,} ({after[1] / max(before[1], 1):.1%})")
    for note in space.unprunable:
        print(f"left unpruned: {note}")
    print(f"pruned model written to {args.out}")
    return 0
