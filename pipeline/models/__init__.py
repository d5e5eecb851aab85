"""Model zoo (registered by name, each with a `-tiny` variant) and user models.

`import pipeline.models` stays light: torch is imported by the functions that need it.
"""
from pipeline.models.loading import (
    build_model, check_input_shape, check_state_dict, load_weights, parse_input_shape, read_state_dict,
)
from pipeline.models.registry import create_model, is_zoo_model, list_models, register_model

__all__ = [
    "build_model", "check_input_shape", "check_state_dict", "create_model", "is_zoo_model",
    "list_models", "load_weights", "parse_input_shape", "read_state_dict", "register_model",
]
