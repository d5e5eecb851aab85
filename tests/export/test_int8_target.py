"""int8 settings follow the target CPU: reduce_range on x86 without VNNI, full range elsewhere."""
from pipeline.export.int8_target import onnx_int8_settings


def test_x86_without_vnni_reduces_range():
    assert onnx_int8_settings("x86_64", ["sse4_2", "avx2", "fma"])["reduce_range"] is True


def test_x86_with_vnni_keeps_full_range():
    for flag in ("avx512_vnni", "avx_vnni"):
        assert onnx_int8_settings("x86_64", ["avx2", flag])["reduce_range"] is False


def test_arm_keeps_full_range():
    assert onnx_int8_settings("aarch64", ["fp", "asimd", "asimddp"])["reduce_range"] is False


def test_unknown_target_is_safe():
    settings = onnx_int8_settings(None, [])
    assert settings["reduce_range"] is True
    assert "unknown" in settings["reason"]
