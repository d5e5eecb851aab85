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
    name: str = "digits"          # digits | mnist | fashion-mnist | cifar10 | folder | csv
    path: str = ""                # files the user already has (fashion-mnist: its Debian path)
    image_size: int = 32
    val_fraction: float = 0.15
    test_fraction: float = 0.2
    batch_size: int = 64
    limit: int = 0                # >0: a stratified, seeded subset of this many images
    val_images: int = 0           # >0 (with limit): validation = this many images limit left unused
    channels: str = "auto"        # folder/csv: auto (the model's first conv) | 1 | 3
    lazy: str = "auto"            # folder/csv: read images from disk as needed: auto | true | false
    eval_images: int = 2000       # lazy: val/test accuracy on at most this many (stratified)
    crop_pad: int = 0             # lazy: train-time random crop from an image padded this much
    flip: bool = False            # lazy: train-time random horizontal flip


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
    device: str = "auto"           # auto | cpu | cuda[:N] | mps: training, BN re-calibration,
                                   # distillation, accuracy estimates (exports stay on CPU)
    amp: bool = False              # mixed precision (float16) when the device is CUDA


@dataclass
class SearchConfig:
    population: int = 12
    generations: int = 8
    screen_factor: int = 4           # offspring proposed per generation = this x population;
                                     # surrogates pick the population's worth evaluated (1: off)
    predictor: bool = True           # screen latency with the device's learned predictor
    latency_source: str = "device"   # device | predicted | flops | params
    front_audit: int = 1             # latency_source=predicted: front members measured per
                                     # generation to check the predictor (all, if one is off by
                                     # > 20%); -1: the whole front every generation
    front_floor: float = 0.5         # front members whose accuracy estimate is below this share
                                     # of the baseline's are left off the reported front (and
                                     # never measured for it); 0: report the whole front
    mode: str = "nsga2"              # nsga2 | weighted (seed paper's weighted sum)
    weights: list[float] = field(default_factory=lambda: [1.0, 1.0, 0.0])
    importance: str = "l1"           # l1 | l2 | fpgm | bn | taylor | blend (see criteria.*)
    min_keep: float = 0.0            # fewest channels a group keeps, as a fraction (>= 1 channel)
    round_to: int = 1                # channel granularity of the genes; 0: the profile's hint
    snap_share: float = 0.5          # with finer genes than the profile's round_to hint: share
                                     # of mutations snapped to multiples of it (0: never), and
                                     # the initial uniform individuals are snapped too
    coarse_generations: int = 0      # with finer genes than that hint: the first generations
                                     # propose only architectures on its multiples
    supernet_epochs: int = 4         # >0: first train one set of weights for every width
                                     # (pipeline/supernet); step 1 prunes those instead
    supernet_lr: float = 0.05
    estimate_steps: int = 0          # step 1: KD steps after BN re-calibration (0: BN only)
    estimate_lr: float = 0.05        # step 1's learning rate (cosine to 0 over its steps)
    budget_ms: float = 0.0           # 0: no latency budget
    max_drop: float = 0.0            # 0: no accuracy-drop constraint (fraction, 0.01 = 1 point)
    calib_batches: int = 4
    val_subset: int = 0              # 0: the whole validation split
    front_finetune_steps: int = 30
    refine_per_generation: int = 2   # step-2 fine-tunes per generation (0 turns step 2 off)
    line_probes: int = 4             # full recoveries during the search, finding where the
                                     # 1-point line cuts the front (the last in the last
                                     # generation); the finish goes on from them. 0: none
    third_objective: str = ""        # "" | params: a third objective, parameter count
    sensitivity: bool = True         # seed the population (and mutation) by layer sensitivity
    sensitivity_bounds: bool = False # also bound genes by it (cuts the space on a cheap estimate)
    sensitivity_keeps: list[float] = field(default_factory=lambda: [0.25, 0.5])
    sensitivity_tolerance: float = 0.3  # a gene may go as low as a keep losing at most this
    export_workers: int = 0          # TFLite conversions side by side; 0: one per core (<= 4)
    executor: str = "local"          # local | ray: where the accuracy side of evaluations runs
    ray_address: str = ""            # ray cluster (ray://host:10001 or auto); empty: RAY_ADDRESS,
                                     # else a local Ray instance
    ray_gpus_per_task: float = 1.0   # GPUs per Ray task when training runs on CUDA


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
    max_candidates: int = 3          # recoveries the finish spends on it (after the probes)
    candidate_gap: float = 0.15      # skip members whose search estimate is this far below


@dataclass
class CriteriaConfig:                # search.importance=blend and `edgeprune criteria`
    names: list[str] = field(default_factory=lambda: ["l1", "l2", "fpgm", "bn", "taylor"])  # blended
    correlation: str = "spearman"    # spearman | kendall
    cluster_threshold: float = 0.2   # criteria within this mean distance (1 - corr) cluster
    normalise: str = "rank"          # rank | minmax: scores within a group before blending
    keeps: list[float] = field(default_factory=lambda: [0.5, 0.3])  # uniform target keeps
    population: int = 8              # the weight search's population
    generations: int = 4             # and generations (pymoo GA, seeded)
    val_subset: int = 128            # search on these validation images, check on the rest


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
    criteria: CriteriaConfig = field(default_factory=CriteriaConfig)

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
        (cfg.search.latency_source in ("device", "predicted", "flops", "params"),
         "search.latency_source must be one of device, predicted, flops, params"),
        (cfg.search.mode in ("nsga2", "weighted"), "search.mode must be nsga2 or weighted"),
        (cfg.search.third_objective in ("", "params"), "search.third_objective must be '' or params"),
        (all(0 < k < 1 for k in cfg.search.sensitivity_keeps),
         "search.sensitivity_keeps must be fractions in (0, 1)"),
        (cfg.search.population >= 4, "search.population must be at least 4"),
        (cfg.search.screen_factor >= 1, "search.screen_factor must be at least 1 (1: no screening)"),
        (0 <= cfg.search.front_floor < 1,
         "search.front_floor must be in [0, 1) (a share of the baseline's accuracy; 0: no floor)"),
        (cfg.search.front_audit >= -1,
         "search.front_audit must be -1 (the whole front) or a count >= 0"),
        (0 <= cfg.search.snap_share <= 1, "search.snap_share must be a fraction in [0, 1]"),
        (cfg.search.line_probes >= 0,
         "search.line_probes must be >= 0 (0: the finish alone looks for the 1-point line)"),
        (cfg.search.coarse_generations >= 0,
         "search.coarse_generations must be >= 0 (0: every generation at the genes' granularity)"),
        (cfg.search.generations >= 1, "search.generations must be at least 1"),
        (cfg.search.supernet_epochs >= 0, "search.supernet_epochs must be >= 0 (0: no supernet)"),
        (cfg.search.supernet_lr > 0, "search.supernet_lr must be positive"),
        (0 <= cfg.search.min_keep <= 1, "search.min_keep must be in [0, 1] (0: down to one channel)"),
        (cfg.recover.method in ("kd", "sfp", "asrfp", "ghfp"),
         "recover.method must be one of kd, sfp, asrfp, ghfp"),
        (cfg.recover.epochs >= 0, "recover.epochs must be >= 0"),
        (cfg.train.epochs >= 1, "train.epochs must be at least 1"),
        (cfg.train.device.split(":")[0] in ("auto", "cpu", "cuda", "mps"),
         "train.device must be one of auto, cpu, cuda (or cuda:N), mps"),
        (cfg.search.executor in ("local", "ray"), "search.executor must be local or ray"),
        (cfg.search.ray_gpus_per_task >= 0, "search.ray_gpus_per_task must not be negative"),
        (cfg.winners >= 1, "winners must be at least 1"),
        (0 < cfg.data.val_fraction < 1 and 0 < cfg.data.test_fraction < 1
         and cfg.data.val_fraction + cfg.data.test_fraction < 1,
         "data.val_fraction and data.test_fraction must be in (0, 1) and sum below 1"),
        (7 <= cfg.export.opset <= 20, "export.opset must be an ONNX opset from 7 to 20"),
        (0 <= cfg.export.max_int8_drop < 1, "export.max_int8_drop must be a fraction in [0, 1)"),
        (set(cfg.export.formats) <= {"onnx", "tflite"} and cfg.export.formats,
         "export.formats must be a non-empty subset of onnx, tflite"),
        (cfg.criteria.correlation in ("spearman", "kendall"),
         "criteria.correlation must be spearman or kendall"),
        (cfg.criteria.normalise in ("rank", "minmax"), "criteria.normalise must be rank or minmax"),
        (cfg.criteria.names and all(0 < k < 1 for k in cfg.criteria.keeps) and cfg.criteria.keeps,
         "criteria.names must not be empty and criteria.keeps must be fractions in (0, 1)"),
        (cfg.criteria.population >= 2 and cfg.criteria.generations >= 0
         and cfg.criteria.val_subset >= 1 and cfg.criteria.cluster_threshold >= 0,
         "criteria.population must be >= 2, generations >= 0, val_subset >= 1, "
         "cluster_threshold >= 0"),
        (not (cfg.search.importance == "blend" and cfg.recover.method != "kd"
              and "taylor" in cfg.criteria.names),
         f"recover.method={cfg.recover.method} re-plans the pruning without data, which taylor "
         f"needs: remove taylor from criteria.names or use recover.method=kd"),
    ]
    for ok, msg in checks:
        if not ok:
            raise UserError(msg)
    from pipeline.data.load import check_config  # data keys: checked before any run folder is written

    check_config(cfg.data)


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
