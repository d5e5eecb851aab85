"""Model zoo registry: factories registered by name, built with `create_model`.

The zoo modules import torch, so they are imported on first use, not with `pipeline.models`.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Callable

from pipeline.errors import UserError

_FACTORIES: dict[str, Callable] = {}
_ZOO_MODULES = ("lenet", "resnet", "vgg", "mobilenet")
_zoo_loaded = False


def register_model(name: str):
    """Decorator: register `factory(num_classes, in_channels) -> nn.Module` under `name`."""

    def wrap(factory: Callable) -> Callable:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"model name '{name}' is registered twice")
        _FACTORIES[name] = factory
        return factory

    return wrap


def _load_zoo() -> None:
    global _zoo_loaded
    if not _zoo_loaded:
        for module in _ZOO_MODULES:
            importlib.import_module(f"pipeline.models.zoo.{module}")
        _zoo_loaded = True


def list_models() -> list[str]:
    _load_zoo()
    return sorted(_FACTORIES)


def is_zoo_model(name: str) -> bool:
    _load_zoo()
    return name in _FACTORIES


def create_model(name: str, num_classes: int = 10, in_channels: int = 3):
    _load_zoo()
    if name not in _FACTORIES:
        close = difflib.get_close_matches(name, list(_FACTORIES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(
            f"unknown model '{name}'{hint}; zoo models: {', '.join(sorted(_FACTORIES))}, "
            "or pass your own as package.module:factory")
    if num_classes < 1 or in_channels < 1:
        raise UserError(f"num_classes and in_channels must be positive, got {num_classes}, {in_channels}")
    return _FACTORIES[name](num_classes=num_classes, in_channels=in_channels)
