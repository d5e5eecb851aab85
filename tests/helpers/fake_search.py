"""A fast fake device for unit tests of the search only (never a default, never proof)."""
from __future__ import annotations

from pipeline.search.genes import GeneSpace
from pipeline.search.records import Evaluation, genome_key

CHANNELS = {"conv1": 16, "layer1": 16, "layer2": 32, "layer3": 64}


def gene_space(step: int = 4, min_keep: float = 0.25, align: int = 1) -> GeneSpace:
    class Group:
        def __init__(self, name, channels):
            self.name, self.channels = name, channels

    class Space:  # the SearchSpace surface GeneSpace needs
        groups = [Group(n, c) for n, c in CHANNELS.items()]

        @staticmethod
        def choices(name):
            full = CHANNELS[name]
            return sorted(set(list(range(step, full + 1, step)) + [full]))

    return GeneSpace.from_space(Space, min_keep=min_keep, align=align)


class FakeEvaluator:
    """Accuracy falls and latency rises smoothly with width, with a staircase on multiples of 8."""

    def __init__(self):
        self.calls = 0
        self.refined = 0
        self.all = {}

    def evaluate(self, genomes, generation):
        out = []
        for i, ch in enumerate(genomes):
            key = genome_key(ch)
            if key not in self.all:
                self.calls += 1
                keep = sum(ch.values()) / sum(CHANNELS.values())
                acc = 0.99 - 0.4 * (1 - keep) ** 2 - 0.05 * (ch["layer1"] < 8)
                lat = sum(c * (1.0 if c % 8 == 0 else 1.6) for c in ch.values()) / 50
                self.all[key] = Evaluation(key=key, id=f"g{generation}-i{i}", generation=generation,
                                           channels=ch, params=sum(ch.values()) * 100,
                                           macs=sum(ch.values()) * 1000, accuracy_bn=acc,
                                           latency_ms={"p50": lat, "p90": lat * 1.1})
            out.append(self.all[key])
        return out

    def refine(self, evals):
        for ev in evals:
            if ev.accuracy_kd is None:
                ev.accuracy_kd = min(0.995, ev.accuracy_bn + 0.02)
                self.refined += 1
