"""Where the tensor work of training, BN re-calibration, distillation and evaluation runs.

`train.device` (auto | cpu | cuda | mps) is resolved once into a `Compute` and made current
with `with use(...)`; the recover functions read it with `current()`. Contract: they move the
models they work on to the compute device for the duration of the call and back to where
they were afterwards, and move batches as they go. Everything outside recover/ (pruning,
export, parity checks, measurement) therefore keeps seeing CPU models, whatever the device.
On CPU every move is a no-op: a CPU run computes exactly what it did before.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

from pipeline.errors import UserError

DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class Compute:
    device: str = "cpu"     # a torch device string: cpu, cuda, cuda:1, mps
    amp: bool = False       # mixed precision (float16 autocast + grad scaling) on CUDA only

    @property
    def accelerated(self) -> bool:
        return self.device != "cpu"


_CURRENT: contextvars.ContextVar[Compute] = contextvars.ContextVar("edgeprune_compute",
                                                                   default=Compute())


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str):
    """`train.device` -> torch.device; auto picks CUDA, else MPS, else CPU.

    A device asked for by name that this machine lacks is a UserError, before any work.
    """
    import torch

    name = (name or "auto").strip().lower()
    kind = name.split(":", 1)[0]
    if kind not in DEVICES or (":" in name and kind != "cuda"):
        raise UserError(f"train.device = {name!r} is not a device; use one of "
                        f"{', '.join(DEVICES)} (or cuda:N)")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available(torch):
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise UserError("train.device = cuda, but this torch sees no CUDA GPU (CPU-only "
                            "build or no driver); install a CUDA build of torch or use "
                            "train.device=auto")
        if ":" in name:
            index = name.split(":", 1)[1]
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise UserError(f"train.device = {name!r}: this machine has "
                                f"{torch.cuda.device_count()} CUDA device(s); use cuda:0..")
    if kind == "mps" and not _mps_available(torch):
        raise UserError("train.device = mps, but MPS (Apple GPU) is not available here; "
                        "use train.device=auto or cpu")
    return torch.device(name)


def compute_for(name: str, amp: bool = False) -> Compute:
    device = resolve_device(name)
    return Compute(device=str(device), amp=bool(amp) and device.type == "cuda")


def current() -> Compute:
    return _CURRENT.get()


@contextlib.contextmanager
def use(compute: Compute):
    """Make `compute` current for this thread of work (Ray workers set it per task)."""
    token = _CURRENT.set(compute)
    try:
        yield compute
    finally:
        _CURRENT.reset(token)


def _device_of(module):
    import torch

    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def placed(*modules):
    """Move `modules` to the current compute device; put each back where it was on exit.

    Yields the torch.device. Module.to moves parameters in place (same Parameter objects),
    so optimisers and hooks built before or after the move keep working.
    """
    import torch

    target = torch.device(current().device)
    homes = [_device_of(m) for m in modules]
    for m in modules:
        if _device_of(m) != target:
            m.to(target)
    try:
        yield target
    finally:
        for m, home in zip(modules, homes):
            if _device_of(m) != home:
                m.to(home)


def to_device(tensor, device):
    """A batch on `device` (no copy when it is already there)."""
    non_blocking = device.type == "cuda"
    return tensor.to(device, non_blocking=non_blocking)


def autocast(device):
    """Mixed precision when `train.amp` is on and the device is CUDA; otherwise nothing."""
    import torch

    if current().amp and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def grad_scaler(device):
    """A GradScaler for float16 training on CUDA, or None (full precision needs none)."""
    import torch

    if current().amp and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None
