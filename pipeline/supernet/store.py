"""The supernet a run's search prunes: trained once per run folder, kept for a resume.

`supernet/weights.safetensors` (tensors only) and `supernet/order.json` (each group's channel
order, most important first, and how the weights were trained) are written atomically, the
order last, so a folder with both is complete. Both are read as data and checked against the
search space; a damaged pair is one line saying to delete the folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import UserError
from pipeline.progress import status


@dataclass
class Supernet:
    model: object                      # the trained weights, unpruned architecture
    order: dict[str, list[int]]        # group -> channel indices, most important first
    info: dict = field(default_factory=dict)

    def prune(self, channels: dict[str, int], example_inputs):
        """The really pruned model of `channels`: the first channels of each group's order."""
        from pipeline.prune import apply_plan, plan_from_order

        return apply_plan(self.model, plan_from_order(self.order, dict(channels)), example_inputs)


def supernet_for_run(cfg, base_model, space, genes, splits, importance, batches,
                     run_dir: Path) -> Supernet:
    """The run folder's supernet, trained now (search.supernet_epochs epochs) if it has none."""
    import torch

    from pipeline.prune import channel_order

    folder = Path(run_dir) / "supernet"
    example = torch.zeros(splits.input_shape)
    if (folder / "order.json").is_file():
        return _load(folder, base_model, space)
    sc = cfg.search
    order = channel_order(base_model, example, importance, batches,
                          names=[g.name for g in space.groups])
    from pipeline.supernet.train import train_supernet

    status(f"supernet: training one set of weights for every width, {sc.supernet_epochs} "
           f"epochs (search.supernet_epochs; 0 turns it off)")
    model, history = train_supernet(base_model, genes, order, splits,
                                    cfg.recover, sc.supernet_epochs, sc.supernet_lr, cfg.seed)
    info = {"epochs": sc.supernet_epochs, "lr": sc.supernet_lr,
            "widest_val_accuracy": history.best_val_acc, "seconds": history.seconds}
    status(f"supernet: widest sub-network {100 * history.best_val_acc:.2f}% validation, "
           f"{history.seconds:.0f} s")
    _save(folder, model, order, info)
    return Supernet(model, order, info)


def _save(folder: Path, model, order: dict, info: dict) -> None:
    from safetensors.torch import save_model

    from pipeline.atomic import atomic_target, write_text_atomic

    folder.mkdir(parents=True, exist_ok=True)
    with atomic_target(folder / "weights.safetensors") as tmp:
        save_model(model, str(tmp))
    write_text_atomic(folder / "order.json", json.dumps({"order": order, "info": info}, indent=1))


def _load(folder: Path, base_model, space) -> Supernet:
    import copy

    from safetensors.torch import load_model

    fix = f"delete '{folder}' to train it again"
    try:
        data = json.loads((folder / "order.json").read_text())
        order = {str(k): [int(i) for i in v] for k, v in data["order"].items()}
        info = dict(data.get("info", {}))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"'{folder / 'order.json'}' is corrupt ({exc}); {fix}") from None
    for g in space.groups:
        if sorted(order.get(g.name, [])) != list(range(g.channels)):
            raise UserError(f"'{folder / 'order.json'}' does not order group '{g.name}''s "
                            f"{g.channels} channels; {fix}")
    model = copy.deepcopy(base_model)
    try:
        load_model(model, str(folder / "weights.safetensors"), strict=True)
    except Exception as exc:   # SafetensorError or a shape mismatch: not these weights
        raise UserError(f"'{folder / 'weights.safetensors'}' cannot be read into the model "
                        f"({type(exc).__name__}); {fix}") from None
    status(f"supernet: loaded from '{folder}'")
    return Supernet(model.eval(), order, info)
