"""Export: ONNX / TFLite (fp32, int8), parity with PyTorch, the deployment bundle.

Importing this package is cheap: onnx, onnxruntime, litert_torch and ai_edge_* are imported
inside the functions that use them.
"""
from pipeline.export.bundle import read_manifest, sha256_file, verify_bundle, write_bundle
from pipeline.export.onnx_export import export_onnx, quantize_onnx_int8, run_onnx
from pipeline.export.parity import Parity, check_parity, run_file
from pipeline.export.tflite_export import export_tflite, quantize_tflite_int8, run_tflite
from pipeline.export.winner import FILE_NAMES, export_winner, parse_formats

__all__ = [
    "FILE_NAMES", "Parity", "check_parity", "export_onnx", "export_tflite", "export_winner",
    "parse_formats", "quantize_onnx_int8", "quantize_tflite_int8", "read_manifest", "run_file",
    "run_onnx", "run_tflite", "sha256_file", "verify_bundle", "write_bundle",
]
