"""Turn genomes into numbers: params, MACs, accuracy (two steps) and latency measured on a device.

Step 1 (every individual): prune, re-calibrate BN statistics on a few training batches,
evaluate on a validation subset. Step 2 (only what the search asks for, its non-dominated set):
a short distillation from the unpruned model, then the full validation split.
Latency is measured on the device in one batch per generation; an architecture is measured
once per run (and once ever, through the device's persistent cache).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.progress import progress
from pipeline.devices.stats import latency_dict
from pipeline.search.records import BASELINE, SENSITIVITY, Evaluation, genome_key


@dataclass
class FitnessCounters:
    evaluated: int = 0        # architectures pruned and scored in this process
    replayed: int = 0         # taken from a checkpoint on resume
    measured: int = 0         # latency measured on the device now
    cached: int = 0           # latency from the persistent cache
    refined: int = 0          # step-2 fine-tunes run


@dataclass
class Evaluator:
    base_model: object
    space: object                  # pipeline.prune.SearchSpace
    splits: object                 # pipeline.data.Splits
    search_cfg: object             # SearchConfig
    recover_cfg: object            # RecoverConfig
    device: object | None          # an open pipeline.devices Device; None for flops/params
    workdir: Path
    seed: int = 0
    recorded: dict[str, Evaluation] = field(default_factory=dict)
    all: dict[str, Evaluation] = field(default_factory=dict)
    counters: FitnessCounters = field(default_factory=FitnessCounters)

    def __post_init__(self):
        import torch

        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg, s = self.search_cfg, self.splits
        bs = 64
        n_calib = min(len(s.x_train), cfg.calib_batches * bs)
        # Fixed calibration batches: the same genome always gets the same BN statistics.
        gen = torch.Generator().manual_seed(self.seed)
        order = torch.randperm(len(s.x_train), generator=gen)[:n_calib]
        self.calib_x = [s.x_train[order[i:i + bs]] for i in range(0, n_calib, bs)]
        self.calib_batches = [(s.x_train[order[i:i + bs]], s.y_train[order[i:i + bs]])
                              for i in range(0, n_calib, bs)]
        n_val = cfg.val_subset or len(s.x_val)
        self.val_x, self.val_y = s.x_val[:n_val], s.y_val[:n_val]
        self.example = torch.zeros(s.input_shape)

    # -- step 1 ---------------------------------------------------------------------------
    def prune(self, channels: dict[str, int]):
        from pipeline.prune import apply_genome

        return apply_genome(self.base_model, channels, self.example,
                            importance=self.search_cfg.importance, batches=self.calib_batches)

    def evaluate(self, genomes: list[dict[str, int]], generation: int) -> list[Evaluation]:
        """Evaluate a generation; returns one Evaluation per genome (duplicates share one)."""
        from pipeline.prune import count_params_macs
        from pipeline.recover import evaluate, recalibrate_bn

        results: list[Evaluation | None] = [None] * len(genomes)
        to_measure: list[tuple[Evaluation, object]] = []   # (evaluation, pruned model)
        for idx, channels in enumerate(progress(genomes, desc=f"gen {generation} accuracy",
                                                unit="arch")):
            key = genome_key(channels)
            if key in self.all:
                results[idx] = self.all[key]
                continue
            if key in self.recorded:
                ev = copy.deepcopy(self.recorded[key])
                ev.accuracy_kd = None   # step 2 is replayed only when the search asks again
                self.all[key] = results[idx] = ev
                self.counters.replayed += 1
                continue
            model = self.prune(channels)
            params, macs = count_params_macs(model, self.example)
            recalibrate_bn(model, self.calib_x)
            acc = evaluate(model, self.val_x, self.val_y)
            prefix = f"g{generation:03d}" if generation >= 0 else \
                {BASELINE: "base", SENSITIVITY: "sens"}.get(generation, "pre")
            ev = Evaluation(key=key, id=f"{prefix}-i{idx:02d}", generation=generation,
                            channels=dict(channels), params=int(params), macs=int(macs),
                            accuracy_bn=float(acc), latency_source=self.search_cfg.latency_source)
            self.all[key] = results[idx] = ev
            self.counters.evaluated += 1
            if ev.latency_source == "device":
                to_measure.append((ev, model))
        if to_measure:
            self._measure([ev for ev, _ in to_measure],
                          self._export_for_device([m for _, m in to_measure],
                                                  [ev.key for ev, _ in to_measure]))
        return results  # type: ignore[return-value]

    def _export_for_device(self, models: list, keys: list[str]) -> list[Path]:
        """The whole generation's files, written before any of them is timed."""
        from pipeline.export.tflite_pool import export_for_runtime

        return export_for_runtime(models, self.example, self.workdir, keys,
                                  self.device.profile.runtime,
                                  workers=self.search_cfg.export_workers)

    def _measure(self, evals: list[Evaluation], paths: list[Path]) -> None:
        measurements = self.device.measure(paths, tuple(self.splits.input_shape))
        for ev, m in zip(evals, measurements):
            ev.latency_ms = latency_dict(m.stats)
            ev.cached = bool(m.cached)
            self.counters.cached += int(m.cached)
            self.counters.measured += int(not m.cached)

    def evaluations(self) -> list[Evaluation]:
        """Every architecture this run evaluated, the GA's and the ones before it (baseline,
        sensitivity probes), plus recorded ones not asked for again: what evaluations.jsonl holds.

        Probes the GA later proposed are the same objects (it gets them from `all`), so each
        architecture appears once, under the step that measured it first.
        """
        merged = {**self.recorded, **self.all}
        return sorted(merged.values(), key=lambda e: (e.generation, e.id))

    # -- step 2 ---------------------------------------------------------------------------
    def refine(self, evals: list[Evaluation]) -> None:
        """Short distillation + full validation for the given individuals (in place)."""
        import torch

        from pipeline.recover import distill, recalibrate_bn

        todo = [ev for ev in evals if ev.accuracy_kd is None]
        for ev in progress(todo, desc="step-2 fine-tune", unit="arch"):
            rec = self.recorded.get(ev.key)
            if rec is not None and rec.accuracy_kd is not None:
                ev.accuracy_kd = rec.accuracy_kd
                continue
            torch.manual_seed(self.seed)
            model = self.prune(ev.channels)
            recalibrate_bn(model, self.calib_x)
            _, history = distill(model, self.base_model, self.splits, self.recover_cfg, self.seed,
                                 max_steps=self.search_cfg.front_finetune_steps)
            ev.accuracy_kd = float(history.best_val_acc)  # full validation split
            self.counters.refined += 1
