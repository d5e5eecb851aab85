"""Structural pruning: search space from torch-pruning's dependency graph, genomes -> smaller
models, importance criteria, soft pruning, save/load without pickle.

`import pipeline.prune` stays light: torch and torch_pruning load inside the functions.
"""
from pipeline.prune.apply import (apply_genome, apply_plan, channel_order, count_params_macs,
                                  plan_from_order, pruning_plan, soft_prune)
from pipeline.prune.graph import forward
from pipeline.prune.importance import get_importance, list_importances, register_importance
from pipeline.prune.saving import load_pruned, read_record, save_pruned
from pipeline.prune.space import PrunableGroup, SearchSpace

__all__ = [
    "PrunableGroup", "SearchSpace", "apply_genome", "apply_plan", "channel_order",
    "count_params_macs", "forward", "plan_from_order",
    "get_importance", "list_importances", "load_pruned", "pruning_plan", "read_record",
    "register_importance", "save_pruned", "soft_prune",
]
