"""Where the expensive, independent pieces of work run: `search.executor = local | ray`.

An executor has one method the search calls, `map(fn, items, shared=None, desc="")`:
`fn(shared, item)` for every item, results in submission order. `fn` must be a module-level
function (it travels by name to other processes); `shared` is sent once per call, not per item.
The accuracy side of each evaluation goes through it; measurements never do (they stay with
the device or board pool, one session per board).
"""
from __future__ import annotations

from pipeline.errors import UserError

EXECUTORS = ("local", "ray")


def make_executor(search_cfg, train_cfg=None):
    """The executor `search.executor` names; Ray is imported only when asked for."""
    name = search_cfg.executor
    if name == "local":
        from pipeline.executors.local import LocalExecutor

        return LocalExecutor()
    if name == "ray":
        from pipeline.executors.ray import RayExecutor

        return RayExecutor(address=search_cfg.ray_address,
                           device=getattr(train_cfg, "device", "cpu"),
                           amp=bool(getattr(train_cfg, "amp", False)),
                           gpus_per_task=search_cfg.ray_gpus_per_task)
    raise UserError(f"search.executor = {name!r}; use one of {', '.join(EXECUTORS)}")
