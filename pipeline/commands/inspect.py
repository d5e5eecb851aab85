"""`edgeprune inspect`: params, MACs and per-group channels of a pruned folder or a model."""
from __future__ import annotations

from pipeline.commands.prune import add_model_arguments, load_user_model


def register(sub):
    p = sub.add_parser("inspect", help="params, MACs and channels per prunable group of a model "
                       "or of a folder written by `edgeprune prune`")
    p.add_argument("target", nargs="?", metavar="DIR|MODEL",
                   help="pruned-model folder, zoo name or package.module:factory")
    add_model_arguments(p)
    p.add_argument("--model", metavar="REF", help="for a folder whose model.json names your own "
                   "package.module:factory: that reference again (a file's name is never imported)")
    p.add_argument("--list", action="store_true", help="list the zoo models and importance criteria")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _describe(args) -> dict:
    from pathlib import Path

    import torch

    from pipeline.errors import UserError
    from pipeline.prune import SearchSpace, count_params_macs, load_pruned, read_record
    from pipeline.prune.saving import trusted_base_ref

    path = Path(args.target)
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except OSError:  # a name too long for a path: then it can only be a model name
        is_dir = exists = False
    if is_dir:
        record = read_record(path)
        model, meta = load_pruned(path, args.model)
        example = torch.zeros(tuple(record["input_shape"]))
        args.model = trusted_base_ref(record, args.model, path)
        args.num_classes, args.in_channels = record["num_classes"], record["in_channels"]
        args.input_shape = ",".join(map(str, record["input_shape"]))
        base, _, _, _ = load_user_model(args)
        full = SearchSpace.from_model(base, example).full()
        channels = {name: record["channels"].get(name, count) for name, count in full.items()}
        unprunable = meta.get("unprunable", [])
    elif exists:
        raise UserError(f"'{path}' is a file; pass a folder written by `edgeprune prune` or a model")
    else:
        if args.model:
            raise UserError("--model is for a pruned folder; to inspect a model, pass it as DIR|MODEL")
        args.model = args.target
        model, example, _, _ = load_user_model(args)
        space = SearchSpace.from_model(model, example, ignore=tuple(args.ignore), round_to=args.round_to)
        full = channels = space.full()
        unprunable = list(space.unprunable)
    params, macs = count_params_macs(model, example)
    return {"model": args.model, "input_shape": list(example.shape), "params": params, "macs": macs,
            "groups": [{"name": n, "channels": channels[n], "full": full[n]} for n in full],
            "unprunable": unprunable}


def run(args) -> int:
    import json

    from pipeline.errors import UserError

    if args.list:
        from pipeline.models import list_models
        from pipeline.prune import list_importances

        print("models: " + ", ".join(list_models()))
        print("importance: " + ", ".join(list_importances()))
        return 0
    if not args.target:
        raise UserError("pass a pruned-model folder or a model (zoo name or package.module:factory)")
    info = _describe(args)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"model {info['model']}  input {'x'.join(map(str, info['input_shape']))}  "
          f"params {info['params']:,}  MACs {info['macs']:,}")
    width = max((len(g["name"]) for g in info["groups"]), default=5)
    print(f"{'group':<{width}}  channels / full")
    for g in info["groups"]:
        print(f"{g['name']:<{width}}  {g['channels']:>8} / {g['full']}")
    for note in info["unprunable"]:
        print(f"left unpruned: {note}")
    return 0
