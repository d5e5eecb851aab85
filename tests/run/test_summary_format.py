"""The run's closing table says which file its p50/p90 are."""
from pipeline.commands.run import format_summary


def _summary(fmt: str, device: str) -> dict:
    winner = {"id": "knee", "accuracy": 0.98, "latency_ms": {"p50": 0.2, "p90": 0.3},
              "params": 1000, "macs": 2e6, "device": device, "latency_format": fmt,
              "artifacts": {"onnx": {"path": "model.onnx", "accuracy": 0.98,
                                     "latency_ms": {"p50": 0.25}},
                            "tflite": {"path": "model.tflite", "accuracy": 0.98,
                                       "latency_ms": {"p50": 0.2}}}}
    baseline = {"accuracy_test": 0.99, "latency_ms": {"p50": 0.5, "p90": 0.6}, "params": 4000,
                "macs": 8e6}
    return {"run_dir": "runs/x", "baseline": baseline, "winners": [winner]}


def test_table_names_the_tflite_file_on_a_tflite_device():
    text = format_summary(_summary("tflite", "host-tflite"))
    assert "p50/p90: the tflite files (fp32) on host-tflite" in text
    assert "2.50x" in text  # from the manifest's latency_ms (finish writes the tflite file's there)


def test_table_names_the_onnx_file_on_an_onnx_device():
    text = format_summary(_summary("onnx", "host-ort"))
    assert "p50/p90: the onnx files (fp32) on host-ort" in text
