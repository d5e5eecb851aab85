"""Which int8 settings suit the target CPU: onnxruntime's u8s8 kernels saturate on x86 without VNNI.

On AVX2-only x86 CPUs, onnxruntime's uint8-activation x int8-weight kernels add pairs of
products in 16 bits (vpmaddubsw), which saturates with full-range 8-bit weights; its
quantisation guide advises `reduce_range` (7-bit weights) there. CPUs with VNNI (AVX512-VNNI,
AVX-VNNI, AMX) accumulate in 32 bits, and ARM kernels do not have that path, so full range
keeps one more bit of weight precision. Measured on an AMD EPYC (AVX2, no VNNI): a ResNet-20
int8 file fell 3.6-3.9 points without reduce_range and matched fp32 with it.
"""
from __future__ import annotations

import platform

_VNNI_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8", "avx_vnni_int8"}
_ARM_MACHINES = ("aarch64", "arm64", "armv7l", "armv8l", "arm")


def onnx_int8_settings(machine: str | None, cpu_flags) -> dict:
    """{'reduce_range': bool, 'reason': str} for a target with this machine name and flags.

    An unknown target gets reduce_range: it costs at most one bit of weight precision, while
    the wrong choice on a non-VNNI x86 costs points of accuracy.
    """
    machine = (machine or "").lower()
    flags = {f.lower() for f in (cpu_flags or ())}
    if machine.startswith(_ARM_MACHINES):
        return {"reduce_range": False, "reason": f"ARM target ({machine}): full-range int8 weights"}
    if flags & _VNNI_FLAGS:
        found = ", ".join(sorted(flags & _VNNI_FLAGS))
        return {"reduce_range": False, "reason": f"x86 with VNNI ({found}): full-range int8 weights"}
    if machine in ("x86_64", "amd64", "i686", "i386") and flags:
        return {"reduce_range": True,
                "reason": "x86 without VNNI: 7-bit weights (reduce_range) avoid u8s8 saturation"}
    return {"reduce_range": True,
            "reason": "target CPU features unknown: 7-bit weights (reduce_range), safe on any CPU"}


def host_int8_settings() -> dict:
    """The settings for this machine (exports checked or measured here)."""
    from pipeline.devices.runner import cpu_flags

    return onnx_int8_settings(platform.machine(), cpu_flags())


def device_int8_settings(device) -> dict:
    """The settings for a device's CPU, from the facts its runner reports (this host if None).

    The file's accuracy is checked on this host before it is offered, so a host that needs
    reduce_range gets it too: otherwise a file right for an ARM board would be judged here by
    saturating kernels, and dropped or, worse, kept on a wrong figure.
    """
    host = host_int8_settings()
    if device is None:
        return host
    from pipeline.errors import UserError

    try:
        facts = device.check()
    except UserError:  # unreachable now: the safe choice; measuring will say what is wrong
        facts = {}
    target = onnx_int8_settings(facts.get("machine"), facts.get("cpu_flags"))
    if host["reduce_range"] and not target["reduce_range"]:
        return {"reduce_range": True, "reason": target["reason"].split(":")[0]
                + ", but verified on a host without VNNI: 7-bit weights (reduce_range)"}
    return target
