"""The search space: which groups of coupled channels a genome may shrink, and to what.

Built once per model from torch-pruning's dependency graph, then checked by a probe: every
group loses one channel on a copy, and the copy must compute exactly what the original
computes with that channel's filters zeroed. Groups that fail (a split whose sizes the
forward computes, a chunk that gates one half by the other, a reshape torch-pruning mis-reads)
are reported with their layers and left unpruned instead of producing broken models.
"""
from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass

from pipeline.errors import UserError


@dataclass(frozen=True)
class PrunableGroup:
    name: str                 # the root layer's module name, stable across copies
    channels: int             # full channel count
    layers: tuple[str, ...]   # every named layer the group's channels pass through


@dataclass(frozen=True)
class SearchSpace:
    groups: tuple[PrunableGroup, ...]
    unprunable: tuple[str, ...] = ()   # layer names, each with why, left unpruned
    round_to: int = 1

    @classmethod
    def from_model(cls, model, example_inputs, ignore=(), round_to: int = 1) -> "SearchSpace":
        from pipeline.prune.graph import build_graph, iter_groups

        round_to = int(round_to or 1)
        if round_to < 1:
            raise UserError(f"round_to must be a positive integer, got {round_to}")
        work = copy.deepcopy(model)
        try:
            dg = build_graph(work, example_inputs)
        except Exception as exc:
            raise _trace_error(work, example_inputs, exc) from None
        _check_ignore(work, ignore)
        candidates, unprunable = [], []
        for g in iter_groups(dg, work):
            if g.reaches_output or _ignored(g.layers, ignore):
                continue
            if g.blockers:
                unprunable.extend(b for b in g.blockers if b not in unprunable)
                continue
            candidates.append(PrunableGroup(g.name, g.channels, g.layers))
        # A 1-channel group (in an already pruned model) stays in the space, so that full()
        # lists every group's count; there is nothing to cut, so nothing to probe.
        single = {g.name for g in candidates if g.channels == 1}
        passed, failed = _probe(model, example_inputs, [g for g in candidates if g.name not in single])
        passed = [g for g in candidates if g.name in single or g in passed]
        for group, reason in failed:
            unprunable.append(f"{group.name} (left unpruned: {reason}; layers {', '.join(group.layers)})")
        return cls(tuple(passed), tuple(unprunable), round_to)

    # --- genomes -----------------------------------------------------------------------
    def group(self, name: str) -> PrunableGroup:
        for g in self.groups:
            if g.name == name:
                return g
        close = difflib.get_close_matches(name, [g.name for g in self.groups], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(f"unknown prunable group '{name}'{hint}; see `edgeprune inspect` for the groups")

    def full(self) -> dict[str, int]:
        return {g.name: g.channels for g in self.groups}

    def choices(self, name: str) -> list[int]:
        """Allowed channel counts: multiples of round_to up to the full count, which is always in."""
        channels = self.group(name).channels
        return sorted(set(range(self.round_to, channels + 1, self.round_to)) | {channels})

    def uniform(self, keep: float) -> dict[str, int]:
        """Every group keeps about `keep` of its channels, snapped to the nearest allowed count."""
        if not 0 < keep <= 1:
            raise UserError(f"keep fraction must be in (0, 1], got {keep}")
        genome = {}
        for g in self.groups:
            target = g.channels * keep
            # nearest allowed count; ties go to the larger one (prune less)
            genome[g.name] = min(self.choices(g.name), key=lambda c: (abs(c - target), -c))
        return genome

    def validate(self, genome: dict) -> None:
        if not isinstance(genome, dict):
            raise UserError("a genome must map group names to channel counts")
        for name, keep in genome.items():
            allowed = self.choices(name)
            if isinstance(keep, bool) or not isinstance(keep, int) or keep not in allowed:
                raise UserError(
                    f"group '{name}' cannot keep {keep!r} channels; allowed: multiples of "
                    f"{self.round_to} up to {allowed[-1]}, or {allowed[-1]}")

    # --- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"round_to": self.round_to, "unprunable": list(self.unprunable),
                "groups": [{"name": g.name, "channels": g.channels, "layers": list(g.layers)}
                           for g in self.groups]}

    @classmethod
    def from_dict(cls, data: dict) -> "SearchSpace":
        groups = tuple(PrunableGroup(g["name"], int(g["channels"]), tuple(g["layers"]))
                       for g in data["groups"])
        return cls(groups, tuple(data.get("unprunable", ())), int(data.get("round_to", 1)))


def _trace_error(model, example_inputs, exc) -> UserError:
    """Say whether the model rejects the input, or torch-pruning cannot follow the model."""
    import torch

    from pipeline.prune.graph import _failing_function, forward

    try:
        with torch.no_grad():
            forward(model, example_inputs)
    except Exception as forward_exc:  # the model itself fails on this input
        return UserError(f"the model fails on an input of the example shape "
                         f"({type(forward_exc).__name__}: {forward_exc}); check --input-shape "
                         "(model.input_shape)")
    # The model runs: torch-pruning's tracing failed on an operation it cannot follow. The ones
    # known (channel shuffles) are already left unpruned by build_graph, so this one is new.
    return UserError(
        f"torch-pruning cannot build the model's dependency graph ({type(exc).__name__} in "
        f"{_failing_function(exc)}: {exc}); the model runs on this input, so an operation in its "
        "forward (a reshape, split or shuffle of channels) is what torch-pruning cannot follow; "
        "replace it with a module of its own, or prune a model without it")


def _ignored(layers: tuple[str, ...], ignore) -> bool:
    # a name ignores that layer and everything inside it (a whole block)
    return any(layer == n or layer.startswith(f"{n}.") for layer in layers for n in ignore)


def _check_ignore(model, ignore) -> None:
    names = {n for n, _ in model.named_modules()}
    for n in ignore:
        if n not in names:
            close = difflib.get_close_matches(n, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UserError(f"--ignore names no layer '{n}'{hint}; layer names are module names "
                            "as in model.named_modules()")


def _out_channels(layer) -> int:
    return getattr(layer, "out_channels", None) or getattr(layer, "out_features", 0)


def _cut_and_run(model, example_inputs, groups: list[PrunableGroup]) -> str:
    """'' when cutting the last channel of each group gives the same outputs as zeroing the
    filters that produce it (soft pruning). Shape checks alone would pass a mis-mapped split;
    this also proves each cut removed the right input channels downstream."""
    import torch

    from pipeline.prune.apply import apply_plan, soft_prune
    from pipeline.prune.graph import forward, output_tensors

    plan = {g.name: [g.channels - 1] for g in groups}
    try:
        pruned = apply_plan(model, plan, example_inputs)
        for g in groups:
            if _out_channels(pruned.get_submodule(g.name)) != g.channels - 1:
                return "its channels are tied to each other (e.g. a chunk that gates one half by the other)"
        zeroed = copy.deepcopy(model)
        soft_prune(zeroed, plan, example_inputs, 0.0)
        with torch.no_grad():
            expected = output_tensors(forward(zeroed.eval(), example_inputs))
            got = output_tensors(forward(pruned.eval(), example_inputs))
    except Exception as exc:
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    if [t.shape for t in got] != [t.shape for t in expected]:
        return f"output shapes change from {[tuple(t.shape) for t in expected]} to {[tuple(t.shape) for t in got]}"
    for a, b in zip(got, expected):
        if not torch.allclose(a, b, rtol=1e-4, atol=1e-5 * max(1.0, float(b.abs().max()))):
            return "the remaining channels reach the wrong inputs downstream"
    return ""


def _probe(model, example_inputs, groups: list[PrunableGroup]):
    """(groups that survive a one-channel cut, [(group, why) for those that do not])."""
    if not groups:
        return [], []
    model = copy.deepcopy(model)  # eval() below must not touch the caller's model
    if not _cut_and_run(model, example_inputs, groups):
        return groups, []
    passed, failed = [], []
    for g in groups:  # rare: find the culprits one by one
        reason = _cut_and_run(model, example_inputs, [g])
        (failed.append((g, reason)) if reason else passed.append(g))
    return passed, failed
