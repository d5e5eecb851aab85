"""Typed run configuration: defaults, a TOML file, then `key=value` overrides.

The fully resolved config is written next to a run's outputs (`config.toml`) so any run can
be repeated with `edgeprune run --config runs/X/config.toml`.
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import UserError


@dataclass
class DataConfig:
    name: str = "digits"          # digits | mnist | cifar10 | folder
    path: str = ""                # files the user already has (mnist/cifar10/folder)
    image_size: int = 32
    val_fraction: float = 0.15
    test_fraction: float = 0.2
    batch_size: int = 64


@dataclass
class ModelConfig:
    name: str = "resnet20"        # zoo name or package.module:factory
    weights: str = ""             # state_dict (.pt/.pth/.safetensors); empty: train a baseline
    input_shape: list[int] = field(default_factory=list)  # empty: from the data set
    ignore: list[str] = field(default_factory=list)       # layer names never pruned


@dataclass
class TrainConfig:
    epochs: int = 15
    lr: float = 0.1
    weight_decay: float = 5e-4
    cache_dir: str = ""            # empty: the per-user cache (EDGEPRUNE_CACHE, else XDG)


@dataclass
class SearchConfig:
    population: int = 12
    generations: int = 8
    latency_source: str = "device"   # device | flops | params
    mode: str = "nsga2"              # nsga2 | weighted (seed paper's weighted sum)
    weights: list[float] = field(default_factory=lambda: [1.0, 1.0, 0.0])
    importance: str = "l1"
    min_keep: float = 0.15           # fewest channels a group keeps, as a fraction
    round_to: int = 0                # 0: take the device profile's
    budget_ms: float = 0.0           # 0: no latency budget
    max_drop: float = 0.0            # 0: no accuracy-drop constraint (fraction, 0.01 = 1 point)
    calib_batches: int = 4
    val_subset: int = 0              # 0: the whole validation split
    front_finetune_steps: int = 30
    refine_per_generation: int = 3   # step-2 fine-tunes per generation (0 turns step 2 off)
    third_objective: str = ""        # "" | params: a third objective, parameter count
    sensitivity: bool = True         # bound genes and seed the population by layer sensitivity
    sensitivity_keeps: list[float] = field(default_factory=lambda: [0.25, 0.5])
    sensitivity_tolerance: float = 0.3  # a gene may go as low as a keep losing at most this
    export_workers: int = 0          # TFLite conversions side by side; 0: one per core (<= 4)


@dataclass
class RecoverConfig:
    method: str = "kd"               # kd | sfp | asrfp | ghfp
    epochs: int = 10
    lr: float = 0.02
    temperature: float = 4.0
    alpha: float = 0.7
    feature_weight: float = 0.0      # >0 adds feature mimicry
    patience: int = 4
    finetune_epochs: int = 0         # sfp/asrfp: KD epochs after the final cut
    max_drop: float = 0.01           # "fastest within 1 point": allowed validation drop
    max_candidates: int = 3          # front members recovered to find it, fastest first
    candidate_gap: float = 0.15      # skip members whose search estimate is this far below


@dataclass
class ExportConfig:
    formats: list[str] = field(default_factory=lambda: ["onnx", "tflite"])
    opset: int = 17
    int8: bool = True                # also onnx_int8 + tflite_int8, calibrated on training data
    max_int8_drop: float = 0.01


@dataclass
class Config:
    seed: int = 0
    device: str = "host-ort"
    winners: int = 2
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    recover: RecoverConfig = field(default_factory=RecoverConfig)
    export: ExportConfig = field(default_factory=ExportConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _is_section(tp) -> bool:
    return dataclasses.is_dataclass(tp)


def _coerce(value, tp, key: str):
    """Turn a TOML value or a command-line string into the field's type."""
    origin = typing.get_origin(tp)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()] if value.strip() else []
        if not isinstance(value, list):
            raise UserError(f"config key '{key}' must be a list, got {value!r}")
        return [_coerce(v, item_tp, key) for v in value]
    try:
        if tp is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if tp is float:
            return float(value)
        if tp is str:
            return str(value)
    except ValueError:
        pass
    raise UserError(f"config key '{key}' must be {tp.__name__}, got {value!r}")


def _set(obj, dotted: str, value, full_key: str | None = None) -> None:
    full_key = full_key or dotted
    head, _, rest = dotted.partition(".")
    hints = typing.get_type_hints(type(obj))
    if head not in hints:
        close = difflib.get_close_matches(head, list(hints), n=1)
        hint = f" (did you mean '{full_key.replace(head, close[0], 1)}'?)" if close else ""
        raise UserError(f"unknown config key '{full_key}'{hint}; see `edgeprune run --help-config`")
    tp = hints[head]
    if _is_section(tp):
        if not rest:
            if not isinstance(value, dict):
                raise UserError(f"config key '{full_key}' is a section; set '{full_key}.<key>=...'")
            for k, v in value.items():
                _set(getattr(obj, head), k, v, f"{full_key}.{k}")
            return
        _set(getattr(obj, head), rest, value, full_key)
        return
    if rest:
        raise UserError(f"unknown config key '{full_key}': '{head}' has no sub-keys")
    setattr(obj, head, _coerce(value, tp, full_key))


def _validate(cfg: Config) -> None:
    checks = [
        (cfg.search.latency_source in ("device", "flops", "params"),
         "search.latency_source must be one of device, flops, params"),
        (cfg.search.mode in ("nsga2", "weighted"), "search.mode must be nsga2 or weighted"),
        (cfg.search.third_objective in ("", "params"), "search.third_objective must be '' or params"),
        (all(0 < k < 1 for k in cfg.search.sensitivity_keeps),
         "search.sensitivity_keeps must be fractions in (0, 1)"),
        (cfg.search.population >= 4, "search.population must be at least 4"),
        (cfg.search.generations >= 1, "search.generations must be at least 1"),
        (0 < cfg.search.min_keep <= 1, "search.min_keep must be in (0, 1]"),
        (cfg.recover.method in ("kd", "sfp", "asrfp", "ghfp"),
         "recover.method must be one of kd, sfp, asrfp, ghfp"),
        (cfg.recover.epochs >= 0, "recover.epochs must be >= 0"),
        (cfg.train.epochs >= 1, "train.epochs must be at least 1"),
        (cfg.winners >= 1, "winners must be at least 1"),
        (0 < cfg.data.val_fraction < 1 and 0 < cfg.data.test_fraction < 1
         and cfg.data.val_fraction + cfg.data.test_fraction < 1,
         "data.val_fraction and data.test_fraction must be in (0, 1) and sum below 1"),
        (7 <= cfg.export.opset <= 20, "export.opset must be an ONNX opset from 7 to 20"),
        (0 <= cfg.export.max_int8_drop < 1, "export.max_int8_drop must be a fraction in [0, 1)"),
        (set(cfg.export.formats) <= {"onnx", "tflite"} and cfg.export.formats,
         "export.formats must be a non-empty subset of onnx, tflite"),
    ]
    for ok, msg in checks:
        if not ok:
            raise UserError(msg)


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Defaults, then the TOML file at `path`, then `key=value` overrides (dotted keys)."""
    cfg = Config()
    if path:
        from pipeline.paths import user_path

        p = user_path(path, "config file", "file", "pass an existing TOML file to --config")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"config file '{p}' is not valid TOML (UTF-8): {exc}") from None
        for key, value in data.items():
            _set(cfg, key, value)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"override '{item}' must look like key=value, e.g. search.population=8")
        _set(cfg, key.strip(), value.strip())
    _validate(cfg)
    return cfg


def write_config(cfg: Config, path: Path) -> None:
    import tomli_w

    from pipeline.atomic import write_text_atomic

    write_text_atomic(path, tomli_w.dumps(cfg.to_dict()))


def describe_keys() -> str:
    """Every key with its type, default, allowed values and meaning, for `--help-config`."""
    from pipeline.config_help import describe_keys as describe

    return describe(Config)
