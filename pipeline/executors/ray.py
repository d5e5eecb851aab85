"""Ray executor: each item a Ray task on a cluster (or a local Ray instance).

- Address: `search.ray_address`, else RAY_ADDRESS, else a new local instance.
- Compute: tasks train on `train.device` as resolved *on the worker* (auto picks the worker's
  GPU); one task asks for `search.ray_gpus_per_task` GPUs when the device is cuda, or when it
  is auto and the cluster has GPUs.
- Failures: a task whose worker dies (killed, out of memory, node lost) is re-run by Ray up
  to MAX_RETRIES times; an exception raised by the task itself is not retried and surfaces
  as itself (a UserError stays a UserError).
Imported only when `search.executor = ray`; `pip install 'edgeprune[ray]'` provides Ray.
"""
from __future__ import annotations

import os

from pipeline.errors import UserError

MAX_RETRIES = 3


def _run_task(fn, device: str, amp: bool, shared, item):
    """Runs on a Ray worker: the compute context does not cross processes, so set it here."""
    from pipeline.recover.compute import compute_for, use

    with use(compute_for(device, amp)):
        return fn(shared, item)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str = "", device: str = "cpu", amp: bool = False,
                 gpus_per_task: float = 1.0, num_cpus: int | None = None,
                 max_retries: int = MAX_RETRIES):
        try:
            import ray
        except ImportError:
            raise UserError("search.executor = ray needs Ray; install the extra: "
                            "pip install 'edgeprune[ray]'") from None
        self.address = address or os.environ.get("RAY_ADDRESS", "")
        self.device, self.amp, self.max_retries = device, amp, max_retries
        self._started_here = False
        if not ray.is_initialized():
            try:
                if self.address:
                    ray.init(address=self.address, log_to_driver=False)
                else:
                    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or "a local instance"
                raise UserError(f"cannot start or reach Ray at {where} ({exc}); check "
                                "search.ray_address / RAY_ADDRESS") from None
            self._started_here = True
        kind = device.split(":")[0]
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        self.gpus_per_task = gpus_per_task if kind == "cuda" or (kind == "auto" and has_gpus) \
            else 0
        self._task = ray.remote(_run_task)

    def map(self, fn, items, shared=None, desc: str = "") -> list:
        import ray

        items = list(items)
        if not items:
            return []
        shared_ref = ray.put(shared)   # sent to the object store once, not once per task
        task = self._task.options(num_gpus=self.gpus_per_task, max_retries=self.max_retries)
        refs = [task.remote(fn, self.device, self.amp, shared_ref, item) for item in items]
        return ray.get(refs)           # in submission order, whatever order they finish in

    def close(self) -> None:
        if self._started_here:
            import ray

            ray.shutdown()
            self._started_here = False
