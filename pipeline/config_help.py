"""`edgeprune run --help-config`: every config key with its type, default, allowed values and
one line of meaning, and how to write values on the command line."""
from __future__ import annotations

import dataclasses
import inspect
import re
import typing

# key: (allowed values, meaning). A key missing here falls back to the comment on its field
# in config.py, so a new key is described as soon as it is commented.
HELP = {
    "seed": ("", "seed of the data split, training, search and recovery (same seed, same run)"),
    "device": ("profile name or .toml path", "where latency is measured (`edgeprune devices`)"),
    "winners": (">= 1", "how many winners to recover, export and bundle"),
    "data.name": ("digits | mnist | cifar10 | folder", "the data set"),
    "data.path": ("", "folder with the data set's files (mnist, cifar10, folder)"),
    "data.image_size": (">= 1", "side in pixels images are resized to"),
    "data.val_fraction": ("(0, 1)", "share of the images held out for validation"),
    "data.test_fraction": ("(0, 1)", "share of the images held out for the test"),
    "data.batch_size": (">= 1", "images per training step (baseline, supernet, distillation); "
                        "lower it for large images: activations grow with it"),
    "model.name": ("zoo name | package.module:factory", "the model to prune "
                   "(`edgeprune inspect --list`)"),
    "model.weights": (".pt | .pth | .safetensors", "its trained state_dict; empty: train one"),
    "model.input_shape": ("N,C,H,W", "example input shape; empty: from the data set"),
    "model.ignore": ("module names", "layers never pruned (with everything inside them)"),
    "train.epochs": (">= 1", "epochs of the baseline training when no weights are given"),
    "train.lr": ("> 0", "learning rate of the baseline training"),
    "train.weight_decay": (">= 0", "weight decay of the baseline training"),
    "train.cache_dir": ("", "where trained baselines are kept; empty: the per-user cache"),
    "search.population": (">= 4", "architectures per generation"),
    "search.generations": (">= 1", "generations of the genetic search"),
    "search.latency_source": ("device | predicted | flops | params",
                              "what the search minimises (predicted: the device's learned "
                              "predictor, the front measured)"),
    "search.front_audit": (">= -1", "with latency_source=predicted: front members measured each "
                           "generation to check the predictor (the whole front when one is "
                           "more than 20% off; -1: always the whole front)"),
    "search.front_floor": ("[0, 1)", "front members whose accuracy estimate is below this "
                           "share of the baseline's are left off the reported front and never "
                           "measured for it (0: the whole front)"),
    "search.mode": ("nsga2 | weighted", "Pareto search, or a weighted sum of the objectives"),
    "search.weights": ("3 numbers", "weights of error, latency, params in weighted mode"),
    "search.importance": ("l1 | l2 | fpgm | bn | taylor", "which channels a cut removes"),
    "search.min_keep": ("[0, 1]", "fewest channels a group keeps, as a fraction (0: one channel)"),
    "search.supernet_epochs": (">= 0", "epochs training one set of weights good at every width "
                               "before the search (its estimates rank the fast region); 0: off"),
    "search.supernet_lr": ("> 0", "learning rate of the supernet training"),
    "search.round_to": (">= 0", "channel counts in multiples of this; 0: the profile's"),
    "search.snap_share": ("[0, 1]", "with finer genes than the profile's round_to: share of "
                          "mutations snapped to its multiples, and snapped uniform seeds; 0: off"),
    "search.coarse_generations": (">= 0", "with finer genes than the profile's round_to: the "
                                  "first generations propose only its multiples; 0: off"),
    "search.budget_ms": (">= 0", "latency budget in ms; 0: none"),
    "search.max_drop": (">= 0", "largest accuracy drop allowed (0.01 = 1 point); 0: none"),
    "search.calib_batches": (">= 1", "batches that re-calibrate batch norm after a cut"),
    "search.val_subset": (">= 0", "validation images of the cheap estimate; 0: all"),
    "search.front_finetune_steps": (">= 0", "steps of the short distillation (step 2)"),
    "search.refine_per_generation": (">= 0", "step-2 fine-tunes per generation; 0: off"),
    "search.line_probes": (">= 0", "full recoveries during the search placing the 1-point "
                           "line (the progress line reports them); 0: none"),
    "search.third_objective": ("'' | params", "a third objective"),
    "search.sensitivity": ("true | false", "bound genes and seed the population by sensitivity"),
    "search.sensitivity_keeps": ("fractions in (0, 1)", "keep ratios each group is probed at"),
    "search.sensitivity_tolerance": ("> 0", "a gene may go as low as a keep losing this much"),
    "search.export_workers": (">= 0", "TFLite conversions side by side; 0: one per core (<= 4)"),
    "recover.method": ("kd | sfp | asrfp | ghfp", "how winners recover accuracy"),
    "recover.epochs": (">= 0", "epochs of the winners' recovery"),
    "recover.lr": ("> 0", "learning rate of the recovery"),
    "recover.temperature": ("> 0", "distillation temperature"),
    "recover.alpha": ("[0, 1]", "weight of the teacher's soft targets against the labels"),
    "recover.feature_weight": (">= 0", "weight of feature mimicry; 0: off"),
    "recover.patience": (">= 1", "epochs without improvement before the recovery stops"),
    "recover.finetune_epochs": (">= 0", "sfp/asrfp: distillation epochs after the final cut"),
    "recover.max_drop": ("fraction", "'fastest within 1 point': allowed validation drop"),
    "recover.max_candidates": (">= 1", "recoveries the finish spends on it, after the "
                               "search's line probes"),
    "recover.candidate_gap": ("fraction", "skip members whose estimate is this far below"),
    "export.formats": ("onnx, tflite", "files each winner is exported to"),
    "export.opset": ("7 to 20", "ONNX opset"),
    "export.int8": ("true | false", "also int8 files, calibrated on training images"),
    "export.max_int8_drop": ("fraction", "largest accuracy loss an int8 file may have"),
}


def _type_name(tp) -> str:
    if typing.get_origin(tp) is list:
        return f"list of {typing.get_args(tp)[0].__name__}"
    return getattr(tp, "__name__", str(tp))


def _field_comments(cls) -> dict[str, str]:
    """{field: comment} from the `name: type = default  # comment` lines of a dataclass."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    found = re.findall(r"^\s+(\w+):[^#\n]*#\s*(.+)$", source, flags=re.MULTILINE)
    return {name: text.strip() for name, text in found}


def describe_keys(config_cls) -> str:
    lines = ["Config keys: set them in a TOML file (--config) or as key=value after `run`.",
             "Lists are comma-separated on the command line: model.input_shape=1,1,28,28, "
             "export.formats=onnx,tflite; booleans: true/false.", ""]
    rows = []

    def walk(cls, obj, prefix=""):
        hints = typing.get_type_hints(cls)
        comments = _field_comments(cls)
        for f in dataclasses.fields(cls):
            value = getattr(obj, f.name)
            key = f"{prefix}{f.name}"
            if dataclasses.is_dataclass(value):
                walk(type(value), value, f"{key}.")
                continue
            allowed, meaning = HELP.get(key, ("", comments.get(f.name, "")))
            kind = _type_name(hints[f.name]) + (f", {allowed}" if allowed else "")
            if isinstance(value, list):
                default = ",".join(map(str, value)) or "(empty)"
            else:
                default = repr(value) if isinstance(value, str) else str(value)
            rows.append((f"{key} = {default}", kind, meaning))

    walk(config_cls, config_cls())
    width = max(len(r[0]) for r in rows)
    for key_default, kind, meaning in rows:
        lines.append(f"  {key_default:<{width}}  ({kind})")
        if meaning:
            lines.append(f"      {meaning}")
    return "\n".join(lines)
