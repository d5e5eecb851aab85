"""The whole `edgeprune run` on a tiny budget, with the real host-ort device."""
import hashlib
import json
import tomllib

from pipeline.cli import main
from pipeline.paths import cache_dir

MANIFEST_KEYS = {"model", "device", "accuracy", "baseline_accuracy", "latency_ms",
                 "baseline_latency_ms", "params", "baseline_params", "macs", "baseline_macs",
                 "channels", "artifacts"}


def test_run_writes_a_complete_verified_run_folder(tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), *tiny_args]) == 0
    stdout = capsys.readouterr().out
    assert f"run folder: {out}" in stdout and "baseline" in stdout

    for name in ("config.toml", "pareto.json", "pareto.png", "evaluations.jsonl",
                 "sensitivity.json", "report.html", "timings.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "status.json").read_text())["complete"] is True
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["model"]["name"] == "resnet20-tiny" and config["search"]["population"] == 4

    pareto = json.loads((out / "pareto.json").read_text())
    assert pareto["device"] == "host-ort" and pareto["latency_source"] == "device"
    assert pareto["front"] and pareto["winners"]
    evaluations = [json.loads(x) for x in (out / "evaluations.jsonl").read_text().splitlines()]
    assert all(e["latency_ms"]["p50"] > 0 for e in evaluations)
    steps = {e["error_step"] for e in evaluations}
    assert steps <= {"bn_recal", "kd_quick", "kd_short", "mapped"}
    assert len({e["key"] for e in evaluations}) == len(evaluations)  # measured once each

    winners = sorted((out / "winners").iterdir())
    assert winners
    for w in winners:
        manifest = json.loads((w / "manifest.json").read_text())
        assert MANIFEST_KEYS <= set(manifest)
        assert manifest["latency_ms"]["p50"] > 0 and manifest["baseline_latency_ms"]["p50"] > 0
        assert sum(manifest["channels"].values()) < sum(manifest["full_channels"].values())
        for fmt in ("onnx", "tflite"):
            art = manifest["artifacts"][fmt]
            data = (w / art["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == art["sha256"]
            assert art["max_abs_diff"] < 1e-4 and art["top1_agreement"] == 1.0
            assert art["latency_ms"]["p50"] > 0
            int8 = manifest["artifacts"][f"{fmt}_int8"]
            if int8["path"]:   # measured beside its fp32 file, and compared with it
                assert int8["slower_than_fp32"] == (int8["latency_ms"]["p50"]
                                                    > art["latency_ms"]["p50"])
        assert (w / "model.safetensors").is_file() and (w / "predict.py").is_file()
    assert "data:image/png;base64" in (out / "report.html").read_text()


def test_second_run_reuses_the_baseline_and_cached_latencies(tmp_path, tiny_args, capsys,
                                                             monkeypatch):
    monkeypatch.setenv("EDGEPRUNE_CACHE", str(tmp_path / "cache"))   # this test's cache alone
    args = [*tiny_args, "export.formats=onnx"]
    assert main(["run", "--out", str(tmp_path / "a"), *args]) == 0
    capsys.readouterr()
    # The finish kept its recoveries for the next run of this task (search/outlook.py)...
    (stored,) = (cache_dir() / "recoveries").iterdir()
    pairs_a = json.loads(stored.read_text())["pairs"]
    assert pairs_a and all(0 <= p["recovered"] <= 1 for p in pairs_a)
    evaluated = (tmp_path / "a" / "evaluations.jsonl").read_text().splitlines()
    assert {p["key"] for p in pairs_a} <= {json.loads(line)["key"] for line in evaluated}
    assert main(["run", "--out", str(tmp_path / "b"), *args]) == 0
    err = capsys.readouterr().err
    assert "reusing trained resnet20-tiny" in err
    # ...and the same seed recovers the same architectures: replaced, not counted twice.
    assert len(json.loads(stored.read_text())["pairs"]) == len(pairs_a)
    counters = json.loads((tmp_path / "b" / "pareto.json").read_text())["counters"]
    assert counters["measured"] == 0 and counters["cached"] > 0
    front_a = json.loads((tmp_path / "a" / "pareto.json").read_text())["front"]
    front_b = json.loads((tmp_path / "b" / "pareto.json").read_text())["front"]
    assert [e["key"] for e in front_a] == [e["key"] for e in front_b]  # same seed, same result
