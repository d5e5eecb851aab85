"""Architectures to measure, and measuring them: random genomes spread over the whole space,
pruned, exported in the device's format and timed in one device session.

Weights do not change latency, so the model's own (even untrained) weights are pruned by L1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.predictor.samples import LatencySample
from pipeline.search.records import genome_key


def random_genomes(space, count: int, rng: np.random.Generator, min_keep: float = 0.05,
                   exclude=()) -> list[dict]:
    """`count` distinct genomes. Each draws a global keep level, uniform in [min_keep, 1], and
    scatters every group around it (log-normal), so small, large and lopsided architectures
    are all represented; a quarter draw every group independently. Counts snap to the space's
    allowed choices."""
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


def measure_genomes(model, example, genomes: list[dict], device, workdir,
                    export_workers: int = 0, source: str = "profiled") -> tuple[list[LatencySample], int]:
    """(one sample per genome with its measured p50 and its reference, how many were measured).

    Every genome is measured now (a cached value is replaced, not reused), in chunks of
    REFERENCE_EVERY with the unpruned model timed before and after each chunk: a sample's
    reference_ms is the geometric mean of the two around it, so it and its reference share
    the device's level of that minute. Files go to `workdir`, which must outlive the device
    session: the device re-measures its session's first file to check for drift."""
    from pipeline.export.tflite_pool import export_for_runtime
    from pipeline.prune import apply_genome
    from pipeline.progress import progress

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

    samples: list[LatencySample] = []
    before = time_reference()
    bar = progress(total=len(genomes), desc=f"architectures on {device.profile.name}", unit="arch")
    try:
        for start in range(0, len(genomes), REFERENCE_EVERY):
            chunk = slice(start, start + REFERENCE_EVERY)
            measured = device.measure(paths[chunk], shape, fresh=True)
            after = time_reference()
            level = float(np.sqrt(before * after))
            samples += [LatencySample(dict(g), float(m.stats.p50_ms), source, m.key,
                                      reference_ms=level)
                        for g, m in zip(genomes[chunk], measured)]
            before = after
            bar.update(len(measured))
    finally:
        bar.close()
    return samples, len(samples)
