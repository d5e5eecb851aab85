"""Turn genomes into numbers: params, MACs, accuracy (two steps) and latency measured on a device.

Step 1 (every individual): prune, re-calibrate BN statistics on a few training batches,
then (search.estimate_steps > 0) a few distillation steps at a high learning rate, and evaluate
on a validation subset. BN re-calibration alone ranks aggressive prunings far below where
recovery takes them (an 89% estimate recovered to 98.5%), which steered the search away from
the fast region; a few KD steps rank like full recovery (bench/estimate_rank.py measures it). Step 2 (only what the search asks for, its non-dominated set):
a short distillation from the unpruned model, then the full validation split.
Latency is measured on the device in one batch per generation; an architecture is measured
once per run (and once ever, through the device's persistent cache).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.devices.stats import latency_dict
from pipeline.search.records import (BASELINE, DEVICE_SOURCES, SENSITIVITY, Evaluation,
                                     genome_key)


def calibration_batches(splits, n_batches: int, seed: int, batch_size: int = 64) -> list:
    """Fixed (x, y) training batches: the same genome always gets the same BN statistics.
    n_batches x batch_size images, in passes bounded by pixels (pipeline.batching)."""
    import torch

    from pipeline.batching import inference_batch

    n = min(len(splits.x_train), n_batches * batch_size)
    batch_size = inference_batch(splits.x_train, most=batch_size)
    order = torch.randperm(len(splits.x_train), generator=torch.Generator().manual_seed(seed))[:n]
    return [(splits.x_train[order[i:i + batch_size]], splits.y_train[order[i:i + batch_size]])
            for i in range(0, n, batch_size)]


@dataclass
class FitnessCounters:
    evaluated: int = 0        # architectures pruned and scored in this process
    replayed: int = 0         # taken from a checkpoint on resume
    measured: int = 0         # latency measured on the device now
    cached: int = 0           # latency from the persistent cache
    refined: int = 0          # step-2 fine-tunes run
    predicted: int = 0        # latencies predicted instead of measured (latency_source=predicted)


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
    importance: object = None      # a criterion name or factory (a Blend); None: search_cfg's
    executor: object | None = None  # runs the accuracy tasks (pipeline/executors); None: here
    supernet: object = None        # a pipeline.supernet.Supernet: pruned instead of base_model
    # latency_source=predicted: genomes -> predicted p50 ms, or None while it cannot predict
    # (those architectures are measured instead, and their measurements fit it)
    latency_model: object = None
    files: dict[str, Path] = field(default_factory=dict)   # evaluation key -> its exported file

    def __post_init__(self):
        import torch

        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg, s = self.search_cfg, self.splits
        self.calib_batches = calibration_batches(s, cfg.calib_batches, self.seed)
        self.calib_x = [x for x, _ in self.calib_batches]
        n_val = cfg.val_subset or len(s.x_val)
        self.val_x, self.val_y = s.x_val[:n_val], s.y_val[:n_val]
        self.example = torch.zeros(s.input_shape)
        if self.executor is None:
            from pipeline.executors.local import LocalExecutor

            self.executor = LocalExecutor()

    def context(self):
        """What the accuracy tasks need (search/tasks.py), sent once per executor call."""
        from pipeline.search.tasks import AccuracyContext

        cfg = self.search_cfg
        return AccuracyContext(base_model=self.base_model, example=self.example,
                               calib_x=self.calib_x, calib_batches=self.calib_batches,
                               val_x=self.val_x, val_y=self.val_y,
                               importance=self.importance or cfg.importance,
                               splits=self.splits, recover_cfg=self.recover_cfg,
                               finetune_steps=cfg.front_finetune_steps, seed=self.seed,
                               estimate_steps=cfg.estimate_steps, estimate_lr=cfg.estimate_lr,
                               keep_model=cfg.latency_source in DEVICE_SOURCES,
                               supernet=self.supernet)

    # -- step 1 ---------------------------------------------------------------------------
    def prune(self, channels: dict[str, int]):
        from pipeline.search.tasks import prune

        return prune(self.context(), channels)

    def evaluate(self, genomes: list[dict[str, int]], generation: int) -> list[Evaluation]:
        """Evaluate a generation; returns one Evaluation per genome (duplicates share one)."""
        from pipeline.search.tasks import step1

        results: list[Evaluation | None] = [None] * len(genomes)
        to_measure: list[tuple[Evaluation, object]] = []   # (evaluation, pruned model)
        fresh: dict[str, dict] = {}   # new architectures of this generation, first occurrence
        for channels in genomes:
            key = genome_key(channels)
            if key in self.all or key in fresh:
                continue
            if key in self.recorded:
                ev = copy.deepcopy(self.recorded[key])
                ev.accuracy_kd = None   # step 2 is replayed only when the search asks again
                self.all[key] = ev
                self.counters.replayed += 1
                continue
            fresh[key] = channels
        # The accuracy side runs through the executor (here, or as Ray tasks elsewhere);
        # the latency side below stays with the device (or board pool) in this process.
        scored = dict(zip(fresh, self.executor.map(step1, list(fresh.values()),
                                                   shared=self.context(),
                                                   desc=f"gen {generation} accuracy")))
        for idx, channels in enumerate(genomes):
            key = genome_key(channels)
            if key in self.all:
                results[idx] = self.all[key]
                continue
            model, params, macs, acc, quick = scored[key]
            prefix = f"g{generation:03d}" if generation >= 0 else \
                {BASELINE: "base", SENSITIVITY: "sens"}.get(generation, "pre")
            ev = Evaluation(key=key, id=f"{prefix}-i{idx:02d}", generation=generation,
                            channels=dict(channels), params=int(params), macs=int(macs),
                            accuracy_bn=float(acc), accuracy_quick=quick,
                            latency_source=self.search_cfg.latency_source)
            self.all[key] = results[idx] = ev
            self.counters.evaluated += 1
            if ev.latency_source in DEVICE_SOURCES:
                to_measure.append((ev, model))
        to_measure = self._predict(to_measure)
        if to_measure:
            self._measure([ev for ev, _ in to_measure],
                          self._export_for_device([m for _, m in to_measure],
                                                  [ev.key for ev, _ in to_measure]))
        return results  # type: ignore[return-value]

    def _predict(self, pending: list) -> list:
        """latency_source=predicted: give the predictor's latency to what it can predict;
        return the (evaluation, model) pairs still to measure."""
        todo = [ev for ev, _ in pending if ev.latency_source == "predicted"]
        if not self.price(todo):   # nothing to predict, or no fitted predictor yet: measure
            for ev in todo:
                ev.latency_source = "device"
            return pending
        self.counters.predicted += len(todo)
        return [(ev, m) for ev, m in pending if ev.latency_source == "device"]

    def price(self, evals: list[Evaluation]) -> bool:
        """Set each evaluation's predicted latency from the latency model as it is now (the
        final front re-prices what is still predicted after each measuring round); False when
        there is nothing to price or no fitted model to price it with."""
        predicted = (self.latency_model([ev.channels for ev in evals])
                     if evals and self.latency_model is not None else None)
        if predicted is None:
            return False
        for ev, ms in zip(evals, predicted):
            ev.latency_predicted_ms = float(ms)
        return True

    def measure_predicted(self, evals: list[Evaluation]) -> list[Evaluation]:
        """Measure the given evaluations whose latency is only predicted (each keeps its
        prediction beside the measurement); returns the ones measured now."""
        from pipeline.search.tasks import prune

        todo = [ev for ev in evals if ev.only_predicted]
        if not todo:
            return []
        ctx = self.context()
        models = [prune(ctx, ev.channels) for ev in todo]
        self._measure(todo, self._export_for_device(models, [ev.key for ev in todo]))
        for ev in todo:
            ev.latency_source = "device"
        return todo

    def measure_again(self, evals: list[Evaluation]) -> None:
        """Measure these measured evaluations once more, now, each keeping the faster p50 of
        its two: a shared host's bursts only slow a measurement down (search/front_audit)."""
        from pipeline.search.tasks import prune

        # the file measured the first time, when it is still there (a resumed run may lack it)
        gone = [ev for ev in evals if not (ev.key in self.files and self.files[ev.key].is_file())]
        if gone:
            ctx = self.context()
            self._export_for_device([prune(ctx, ev.channels) for ev in gone],
                                    [ev.key for ev in gone])
        again = self.device.measure([self.files[ev.key] for ev in evals],
                                    tuple(self.splits.input_shape), fresh=True)
        for ev, m in zip(evals, again):
            if m.stats.p50_ms < ev.latency_ms["p50"]:
                ev.latency_ms = latency_dict(m.stats)
            self.counters.measured += 1

    def quick_estimate(self, model) -> float:
        """Step 1's distillation steps on an already pruned, BN re-calibrated `model` (in place)."""
        from pipeline.search.tasks import quick_estimate

        return quick_estimate(self.context(), model)

    def _export_for_device(self, models: list, keys: list[str]) -> list[Path]:
        """The whole generation's files, written before any of them is timed."""
        from pipeline.export.tflite_pool import export_for_runtime

        paths = export_for_runtime(models, self.example, self.workdir, keys,
                                   self.device.profile.runtime,
                                   workers=self.search_cfg.export_workers)
        self.files.update(zip(keys, paths))
        return paths

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
        from pipeline.search.tasks import step2

        todo = []
        for ev in evals:
            if ev.accuracy_kd is not None:
                continue
            rec = self.recorded.get(ev.key)
            if rec is not None and rec.accuracy_kd is not None:
                ev.accuracy_kd = rec.accuracy_kd
            else:
                todo.append(ev)
        accuracies = self.executor.map(step2, [ev.channels for ev in todo],
                                       shared=self.context(), desc="step-2 fine-tune")
        for ev, acc in zip(todo, accuracies):
            ev.accuracy_kd = acc   # full validation split
            self.counters.refined += 1
