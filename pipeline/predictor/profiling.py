"""Architectures to measure, and measuring them: random genomes spread over the whole space,
pruned, exported in the device's format and timed in one device session.

Weights do not change latency, so the model's own (even untrained) weights are pruned by L1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import UserError
from pipeline.predictor.samples import LatencySample
from pipeline.search.records import genome_key


def random_genomes(space, count: int, rng: np.random.Generator, min_keep: float = 0.0,
                   exclude=()) -> list[dict]:
    """`count` distinct genomes. Each draws a global keep level, uniform in [min_keep, 1], and
    scatters every group around it (log-normal), so small, large and lopsided architectures
    are all represented; a quarter draw every group independently. Counts snap to the space's
    allowed choices (min_keep 0: down to one channel, where the search's fastest front members
    live; a predictor fitted from 5% up under-predicted ResNet-20 at one channel per group on
    LiteRT by 30-40%)."""
    seen = {genome_key(g) for g in exclude} | {genome_key(space.full())}
    choices = {g.name: np.asarray(space.choices(g.name)) for g in space.groups}
    out: list[dict] = []
    for _ in range(count * 50):
        if len(out) == count:
            break
        level = rng.uniform(min_keep, 1.0)
        independent = rng.random() < 0.25
        genome = {}
        for g in space.groups:
            keep = rng.uniform(min_keep, 1.0) if independent else level * np.exp(rng.normal(0, 0.3))
            target = float(np.clip(keep, min_keep, 1.0)) * g.channels
            options = choices[g.name]
            genome[g.name] = int(options[np.argmin(np.abs(options - target))])
        key = genome_key(genome)
        if key not in seen:
            seen.add(key)
            out.append(genome)
    return out


REFERENCE_EVERY = 10   # genomes measured between two timings of the unpruned reference
PASSES = 2             # default: every genome measured in this many passes over the whole list


def measure_genomes(model, example, genomes: list[dict], device, workdir,
                    export_workers: int = 0, source: str = "profiled",
                    passes: int = PASSES) -> tuple[list[LatencySample], int]:
    """(one sample per genome with its measured p50 and its reference, how many were measured).

    Every genome is measured now (a cached value is replaced, not reused), in chunks of
    REFERENCE_EVERY with the unpruned model timed before and after each chunk, and the whole
    list `passes` times, one pass after the other. A shared host slows everything that runs
    during a burst of other work, for seconds at a time, and never speeds anything up: so a
    sample's latency is the lowest of its passes' p50s, and its reference_ms the lowest timing
    of the unpruned model around it. Each pass's p50 is kept in `extra["passes_ms"]`: how far
    the passes disagree is the noise any prediction is judged against (`repeatability`).
    Files go to `workdir`, which must outlive the device session: the device re-measures its
    session's first file to check for drift."""
    from pipeline.export.tflite_pool import export_for_runtime
    from pipeline.prune import apply_genome
    from pipeline.progress import progress

    if passes < 1:
        raise UserError(f"--passes must be at least 1, got {passes}")
    if not genomes:
        return [], 0
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    models = [apply_genome(model, g, example) for g in progress(genomes, desc="pruning", unit="arch")]
    paths = export_for_runtime([model, *models], example, folder,
                               ["reference", *(genome_key(g) for g in genomes)],
                               device.profile.runtime, workers=export_workers)
    reference, paths = paths[0], paths[1:]
    shape = tuple(example.shape)

    def time_reference() -> float:
        return float(device.measure([reference], shape, fresh=True)[0].stats.p50_ms)

    timings = np.zeros((passes, len(genomes)))
    references = np.zeros((passes, len(genomes)))
    keys = [""] * len(genomes)
    bar = progress(total=passes * len(genomes), unit="arch",
                   desc=f"architectures on {device.profile.name}"
                        + (f", {passes} passes" if passes > 1 else ""))
    try:
        for done in range(passes):
            before = time_reference()
            for start in range(0, len(genomes), REFERENCE_EVERY):
                chunk = slice(start, start + REFERENCE_EVERY)
                measured = device.measure(paths[chunk], shape, fresh=True)
                after = time_reference()
                timings[done, chunk] = [m.stats.p50_ms for m in measured]
                references[done, chunk] = min(before, after)
                keys[chunk] = [m.key for m in measured]
                before = after
                bar.update(len(measured))
    finally:
        bar.close()
    samples = [LatencySample(dict(g), float(timings[:, i].min()), source, keys[i],
                             extra={"passes_ms": [float(t) for t in timings[:, i]]},
                             reference_ms=float(references[:, i].min()))
               for i, g in enumerate(genomes)]
    return samples, len(samples)


def repeatability(samples) -> dict | None:
    """How well the device repeats itself: per sample, its slowest pass against its fastest
    (the error summary's shares and median of slowest / fastest - 1). A predictor cannot be
    closer to a single measurement than the measurements are to each other. None when no
    sample has two passes."""
    from pipeline.predictor.model import error_summary

    spreads = [max(p) / min(p) - 1 for s in samples
               if len(p := s.extra.get("passes_ms", [])) > 1]
    if not spreads:
        return None
    summary = error_summary(spreads)
    return {k: summary[k] for k in ("n", "within_5pct", "within_10pct", "median_abs_rel",
                                    "worst_abs_rel")}
