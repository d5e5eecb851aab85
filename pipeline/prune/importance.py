"""Channel-importance criteria, a small registry: name -> factory.

A factory gets the model copy that will be pruned, the calibration `batches` (list of
(inputs, labels)) and the forward function, and returns a scorer: torch-pruning `Group` ->
one score per root channel (higher = keep), or None when the group has nothing it can score.
Add a criterion with::

    @register_importance("my-criterion")
    def my_criterion(model, batches, forward):
        return lambda group: ...
"""
from __future__ import annotations

import difflib
from typing import Callable

from pipeline.errors import UserError

_CRITERIA: dict[str, Callable] = {}


def register_importance(name: str):
    def wrap(factory: Callable) -> Callable:
        _CRITERIA[name] = factory
        return factory

    return wrap


def list_importances() -> list[str]:
    return sorted(_CRITERIA)


def get_importance(name) -> Callable:
    """The factory registered as `name`; a factory object (e.g. a `pipeline.criteria.Blend`)
    is returned as it is."""
    if not isinstance(name, str) and callable(name):
        return name
    if name not in _CRITERIA:
        close = difflib.get_close_matches(name, list(_CRITERIA), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(f"unknown importance criterion '{name}'{hint}; "
                        f"choose one of {', '.join(list_importances())}")
    return _CRITERIA[name]


@register_importance("l1")
def l1_norm(model, batches, forward):
    import torch_pruning as tp

    return tp.importance.GroupMagnitudeImportance(p=1)


@register_importance("l2")
def l2_norm(model, batches, forward):
    import torch_pruning as tp

    return tp.importance.GroupMagnitudeImportance(p=2)


@register_importance("fpgm")
def geometric_median(model, batches, forward):
    import torch_pruning as tp

    return tp.importance.FPGMImportance()


@register_importance("bn")
def bn_scale(model, batches, forward):
    import torch_pruning as tp

    return tp.importance.BNScaleImportance()


@register_importance("taylor")
def first_order_taylor(model, batches, forward):
    """|weight x gradient| (Molchanov et al. 2019), gradients summed over `batches`."""
    import torch
    import torch.nn.functional as F
    import torch_pruning as tp

    from pipeline.prune.graph import output_tensors

    if not batches:
        raise UserError("importance 'taylor' needs a few batches of (inputs, labels) to compute "
                        "gradients; pass batches=..., or choose l1, l2, fpgm or bn")
    model.zero_grad(set_to_none=True)
    # eval mode: the gradients must not move BN running statistics of the model being pruned
    model.eval()
    with torch.enable_grad():
        for inputs, labels in batches:
            logits = output_tensors(forward(model, inputs))[0]
            F.cross_entropy(logits, labels).backward()
    return tp.importance.GroupTaylorImportance()
