"""int8 files are checked ON an ARM target before they are offered: its answers vs fp32's.

An int8 file runs other kernels on aarch64 than on this x86 host (XNNPACK and onnxruntime pick
them from the CPU's features), so a file whose accuracy was checked here can still be wrong on
the board: under qemu's default CPU, XNNPACK's SME int8 kernels answered one class for every
sample while the same file was right on x86 (see pipeline/board/rootfs.py). So for an ARM
device each int8 file is run there on test samples, its top-1 answers are compared with the
fp32 (PyTorch) answers, and a file that agrees clearly less than it does on this host is
removed from the bundle, with the reason in its manifest entry.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pipeline.errors import UserError
from pipeline.progress import status

ARM_MACHINES = ("aarch64", "arm64", "armv7", "armv8", "arm")
CHECK_SAMPLES = 64
# Rounding differs by one int8 step between ARM and x86 kernels now and then, which can flip
# a borderline sample: up to this fraction (at least one sample) more disagreement is allowed.
EXTRA_MISMATCH = 0.02


def device_machine(device) -> str:
    """The device's machine name ('aarch64', 'x86_64'...), '' when it cannot be asked."""
    try:
        return str(device.check().get("machine") or "").lower()
    except UserError:
        return ""


def is_arm(machine: str) -> bool:
    return machine.startswith(ARM_MACHINES)


def check_int8_on_device(device, out_dir, artifacts: dict, x: np.ndarray,
                         fp32_logits: np.ndarray) -> dict[str, dict]:
    """Run every int8 file of `artifacts` on the device; drop the ones that fail (in place).

    `x`: test samples (N, C, H, W float32, normalised); `fp32_logits`: PyTorch's on them.
    Returns {key: device_check} for the files checked (also stored in each entry).
    """
    from pipeline.export.parity import run_file

    out_dir = Path(out_dir)
    fp32_top1 = np.asarray(fp32_logits).argmax(1)
    results = {}
    for key, entry in artifacts.items():
        if not key.endswith("_int8") or not entry.get("path"):
            continue
        path = out_dir / entry["path"]
        host_top1 = run_file(path, x).argmax(1)
        check = {"device": device.profile.name, "machine": device_machine(device),
                 "samples": int(len(x)),
                 "host_top1_agreement_fp32": float(np.mean(host_top1 == fp32_top1))}
        try:
            device_top1 = device.predict(path, x).argmax(1)
        except UserError as exc:  # cannot run there: it cannot be offered for that device
            check.update(ok=False, error=str(exc))
        else:
            check.update(judge(device_top1, host_top1, fp32_top1))
        entry["device_check"] = results[key] = check
        if not check["ok"]:
            _drop(entry, path, check)
        else:
            status(f"int8 check on {check['device']}: {entry['path']} agrees with fp32 on "
                   f"{100 * check['top1_agreement_fp32']:.1f}% of {len(x)} test samples "
                   f"({100 * check['host_top1_agreement_fp32']:.1f}% on this host)")
    return results


def judge(device_top1, host_top1, fp32_top1) -> dict:
    """Pure: does the device answer (nearly) as well as this host, against fp32's answers?"""
    device_top1, host_top1, fp32_top1 = (np.asarray(a) for a in (device_top1, host_top1,
                                                                 fp32_top1))
    n = len(fp32_top1)
    allowed = max(1, math.ceil(EXTRA_MISMATCH * n))
    device_wrong = int(np.sum(device_top1 != fp32_top1))
    host_wrong = int(np.sum(host_top1 != fp32_top1))
    return {"top1_agreement_fp32": float(np.mean(device_top1 == fp32_top1)),
            "top1_agreement_host": float(np.mean(device_top1 == host_top1)),
            "most_frequent_class_share": float(np.bincount(device_top1).max() / n),
            "ok": device_wrong <= host_wrong + allowed}


def _drop(entry: dict, path: Path, check: dict) -> None:
    """The failing file leaves the bundle; its entry says why (the manifest keeps the entry)."""
    if "error" in check:
        why = f"could not be run on {check['device']}: {check['error']}"
    else:
        why = (f"on {check['device']} ({check['machine']}) its answers agree with fp32 on "
               f"{100 * check['top1_agreement_fp32']:.1f}% of {check['samples']} test samples, "
               f"against {100 * check['host_top1_agreement_fp32']:.1f}% on this host "
               f"({100 * check['most_frequent_class_share']:.0f}% of answers are one class)")
    path.unlink(missing_ok=True)
    entry["error"] = f"int8 file failed its check on the device: {why}; deploy the fp32 file"
    entry.update(path=None, sha256=None, bytes=None)
    status(f"export: {entry['error']}")


def verify_int8_on_device(device, model, splits, out_dir, artifacts: dict,
                          n_samples: int = CHECK_SAMPLES) -> dict[str, dict]:
    """For an ARM device: check_int8_on_device on the first test samples; else nothing."""
    from pipeline.export.parity import torch_logits

    if device is None or not any(k.endswith("_int8") and a.get("path")
                                 for k, a in artifacts.items()):
        return {}
    machine = device_machine(device)
    if not is_arm(machine):
        return {}
    x = splits.x_test[:n_samples].numpy().astype(np.float32)
    status(f"int8 files: checking their answers on {device.profile.name} ({machine}), "
           f"{len(x)} test samples")
    return check_int8_on_device(device, out_dir, artifacts, x, torch_logits(model, x))
