"""The methods compared by the search-quality benchmark, each returning candidate architectures.

A Candidate is what a method hands to the common finish line (recover, export, measure):
a genome of the project's search space, or, for torch-pruning's global pruner, a model
already cut by it. The GAs run through the project's own search stage (run_search_stage),
so the benchmark measures the code users run, not a re-implementation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.search.records import genome_key


@dataclass
class Candidate:
    method: str
    key: str                    # architecture identity: equal key, one recovery, one file
    label: str                  # e.g. "keep 0.50" or a GA's individual id
    channels: dict | None = None
    model: object = None        # only when the method cut the model itself (torch-pruning)
    estimate: dict = field(default_factory=dict)   # the method's own numbers before recovery


@dataclass
class MethodResult:
    method: str
    candidates: list[Candidate]
    evaluated: int              # distinct architectures scored (the equal-cost budget)
    wall_s: float
    front: list[dict] = field(default_factory=list)   # (accuracy estimate, objective) points
    # pick "bisect": no candidates yet; the finish line bisects this ladder (the front within
    # the estimate gap, fastest first) with `budget` recoveries, as the product's finish does.
    ladder: list[Candidate] = field(default_factory=list)
    budget: int = 0


def shared_supernet(cfg, inputs, workdir: Path):
    """The model's supernet, trained once for every method (None when the config turns it
    off); returns (Supernet, its folder)."""
    import shutil

    import torch

    from pipeline.prune import SearchSpace
    from pipeline.search.genes import GeneSpace
    from pipeline.supernet import supernet_for_run
    from pipeline.search.fitness import calibration_batches

    if cfg.search.supernet_epochs <= 0:
        return None, None
    splits, base_model, _ = inputs
    shutil.rmtree(workdir, ignore_errors=True)
    space = SearchSpace.from_model(base_model, torch.zeros(splits.input_shape), round_to=1)
    net = supernet_for_run(cfg, base_model, space,
                           GeneSpace.from_space(space, min_keep=cfg.search.min_keep), splits,
                           cfg.search.importance,
                           calibration_batches(splits, cfg.search.calib_batches, cfg.seed),
                           workdir)
    return net, workdir / "supernet"


def search_config(base_cfg, latency_source: str, round_to: int):
    import copy

    cfg = copy.deepcopy(base_cfg)
    cfg.search.latency_source = latency_source
    cfg.search.round_to = round_to
    return cfg


def run_ga(method: str, cfg, profile, device, inputs, run_dir: Path, per_method: int,
           gap: float, supernet_dir: Path | None = None, span: float = 0.5,
           pick: str = "spread") -> MethodResult:
    """One NSGA-II search with the project's search stage; candidates spread along its front.

    supernet_dir: a supernet folder every method of the model shares (equal training steps):
    copied into the run folder, where the search stage loads it instead of training its own."""
    import time

    from pipeline.run import StageClock
    from pipeline.search_stage import run_search_stage

    import shutil

    splits, base_model, base_info = inputs
    # A run folder with evaluations would be replayed (resume): every bench run starts clean.
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    if supernet_dir is not None:
        shutil.copytree(supernet_dir, run_dir / "supernet")
    start = time.perf_counter()
    search = run_search_stage(cfg, profile, device, base_model, base_info, splits, run_dir,
                              StageClock())
    wall_s = time.perf_counter() - start
    import json

    counters = json.loads((run_dir / "pareto.json").read_text())["counters"]
    front = [e for e in search["front"] if e.channels != search["baseline"]["channels"]]
    evaluated = int(counters["evaluated"]) - 1   # the baseline is not a try
    return picked_from_front(method, front, search["baseline"]["accuracy"], per_method, gap,
                             span, pick, evaluated=evaluated, wall_s=wall_s)


def picked_from_front(method: str, front: list, base_accuracy: float, per_method: int, gap: float,
                      span: float, pick: str, **result) -> MethodResult:
    """A search method's result: `per_method` candidates spread along its front (pick
    "spread"), or its ladder for the finish line to bisect with as many recoveries ("bisect")."""
    def candidate(e):
        return Candidate(method, e.key, e.id, channels=dict(e.channels),
                         estimate={"accuracy": e.accuracy, "objective": e.latency_objective(),
                                   "step": e.error_step})

    points = [{"accuracy": e.accuracy, "objective": e.latency_objective()} for e in front]
    if pick == "bisect":
        ladder = sorted((e for e in front if e.accuracy >= base_accuracy - gap),
                        key=lambda e: e.latency_objective())
        return MethodResult(method=method, candidates=[], front=points, budget=per_method,
                            ladder=[candidate(e) for e in ladder], **result)
    picked = spread_along_front(front, base_accuracy, per_method, gap, span)
    return MethodResult(method=method, candidates=[candidate(e) for e in picked], front=points,
                        **result)


def spread_along_front(front: list, base_accuracy: float, count: int, gap: float,
                       span: float = 0.5) -> list:
    """`count` members evenly spaced by rank over the faster `span` of the front, among those
    whose estimate is within `gap` of the baseline: the fastest, then safer ones. The bench
    looks for the fastest file within 1 point, which the slow, most accurate end seldom is;
    where accuracy binds (Fashion-MNIST) that file sits far up the front, so the span is wider
    there. Every search method gets this same rule."""
    ok = sorted((e for e in front if e.accuracy >= base_accuracy - gap),
                key=lambda e: e.latency_objective())
    if len(ok) <= count:
        return ok
    idx = np.unique(np.round(np.linspace(0, (len(ok) - 1) * span, count)).astype(int))
    return [ok[i] for i in idx]


def random_genomes(space, min_keep: float, count: int, seed: int) -> list[dict]:
    """`count` distinct uniform draws within the GA's own gene bounds."""
    from pipeline.search.genes import GeneSpace

    genes = GeneSpace.from_space(space, min_keep=min_keep)
    rng = np.random.default_rng(seed)
    seen, out = {genome_key(space.full())}, []
    for _ in range(count * 50):
        genome = genes.decode(genes.random(rng))
        if genome_key(genome) not in seen:
            seen.add(genome_key(genome))
            out.append(genome)
        if len(out) == count:
            break
    return out


def uniform_candidates(space, keeps) -> list[Candidate]:
    """Same keep fraction in every group, channels chosen by L1 norm (apply_genome's 'l1')."""
    out = []
    for keep in keeps:
        genome = space.uniform(keep)
        out.append(Candidate("uniform-l1", genome_key(genome), f"keep {keep:.2f}",
                             channels=genome, estimate={"keep": keep}))
    return out


def global_magnitude_candidates(base_model, example, ratios, classifier: str) -> list[Candidate]:
    """torch-pruning's own recipe: global L2-magnitude ranking across layers, one shot."""
    import copy

    import torch_pruning as tp

    out = []
    for ratio in ratios:
        model = copy.deepcopy(base_model).eval()
        pruner = tp.pruner.BasePruner(
            model, example, importance=tp.importance.MagnitudeImportance(p=2),
            global_pruning=True, pruning_ratio=ratio,
            ignored_layers=[model.get_submodule(classifier)])
        pruner.step()
        widths = [m.out_channels for m in model.modules() if hasattr(m, "out_channels")]
        key = "tp-global:" + ",".join(map(str, widths))
        out.append(Candidate("tp-global-magnitude", key, f"ratio {ratio:.2f}", model=model,
                             estimate={"pruning_ratio": ratio}))
    return out


def classifier_layer(model) -> str:
    """The last Linear layer: torch-pruning must not cut the class outputs."""
    from torch import nn

    return [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]


def score_random(cfg, inputs, space, genomes: list[dict], workdir: Path, supernet=None):
    """Step-1 accuracy of every random genome: no device involved, so once per model
    (scored from the shared supernet, as the GAs score theirs, when there is one)."""
    import shutil
    import time

    from pipeline.search.fitness import Evaluator

    shutil.rmtree(workdir, ignore_errors=True)
    splits, base_model, _ = inputs
    start = time.perf_counter()
    evaluator = Evaluator(base_model=base_model, space=space, splits=splits,
                          search_cfg=cfg.search, recover_cfg=cfg.recover, device=None,
                          workdir=workdir, seed=cfg.seed, supernet=supernet)
    evals = evaluator.evaluate(genomes, generation=0)
    return evaluator, evals, time.perf_counter() - start


def random_search(evaluator, evals, device, base_info, scoring_s: float, per_method: int,
                  gap: float, span: float = 0.5, pick: str = "spread") -> MethodResult:
    """The random draws' latencies measured on the device; the front of (error, latency)."""
    import dataclasses
    import time

    import torch

    from pipeline.devices.stats import latency_dict
    from pipeline.export.tflite_pool import export_for_runtime
    from pipeline.search.ga import Baseline, Objectives, non_dominated

    start = time.perf_counter()
    example = torch.zeros(evaluator.splits.input_shape)
    paths = export_for_runtime([evaluator.prune(ev.channels) for ev in evals], example,
                               evaluator.workdir, [ev.key for ev in evals], device.profile.runtime)
    measured = device.measure(paths, tuple(example.shape))
    timed = [dataclasses.replace(ev, latency_source="device", latency_ms=latency_dict(m.stats))
             for ev, m in zip(evals, measured)]
    objectives = Objectives(mode="nsga2", baseline=Baseline(base_info["accuracy_val"], 1.0, 1))
    front = non_dominated(timed, objectives)
    return picked_from_front("random", front, base_info["accuracy_val"], per_method, gap, span,
                             pick, evaluated=len(evals),
                             wall_s=scoring_s + time.perf_counter() - start)
