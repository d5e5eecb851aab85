"""search.latency_source=predicted: the GA runs on the device's learned predictor, the front and
the winners are measured, and no predicted latency is ever written as a measured one."""
import json

from pipeline.cli import main


def test_a_predicted_search_measures_its_front_and_says_what_was_predicted(tmp_path, tiny_args,
                                                                            capsys):
    out = tmp_path / "run"
    # Probes at two keeps (25 measured architectures with the baseline) fit the predictor
    # before the GA starts, whatever the session's cache holds.
    args = [*tiny_args, "search.latency_source=predicted", "search.sensitivity_keeps=0.25,0.5",
            "search.generations=3", "export.formats=onnx"]
    assert main(["run", "--out", str(out), *args]) == 0
    err = capsys.readouterr().err

    evaluations = [json.loads(x) for x in (out / "evaluations.jsonl").read_text().splitlines()]
    predicted = [e for e in evaluations if e["latency_source"] == "predicted"]
    measured = [e for e in evaluations if e["latency_source"] == "device"]
    assert predicted and measured and len(predicted) + len(measured) == len(evaluations)
    # Predicted: a prediction and no measurement. Measured: a measurement (the GA's front
    # members measured after their prediction keep it beside).
    assert all(e["latency_ms"] is None and e["latency_predicted_ms"] > 0 for e in predicted)
    assert all(e["latency_ms"]["p50"] > 0 for e in measured)
    # Fitted on the probes, the predictor priced every GA architecture first.
    assert all(e["latency_predicted_ms"] for e in measured + predicted if e["generation"] >= 0)
    assert not any(e["latency_predicted_ms"] for e in measured if e["generation"] < 0)

    pareto = json.loads((out / "pareto.json").read_text())
    assert pareto["latency_source"] == "predicted" and pareto["front"]
    # the floor (search.front_floor, half the baseline's accuracy by default): nothing below
    # it is reported, so nothing below it was measured for the front
    floor = pareto["front_floor"]["accuracy"]
    assert floor == 0.5 * pareto["baseline"]["accuracy"]
    assert all(m["accuracy"] >= floor for m in pareto["front"])
    assert pareto["front_floor"]["left_off"] >= 0 and pareto["front_floor"]["share"] == 0.5
    assert all(m["latency_source"] == "device" and m["latency_ms"]["p50"] > 0
               for m in pareto["front"])
    # evaluations.jsonl holds the front's last measurements too
    recorded = {e["key"]: e for e in evaluations}
    assert all(recorded[m["key"]]["latency_ms"] == m["latency_ms"] for m in pareto["front"])
    c = pareto["counters"]
    assert c["predicted"] == len(predicted) + sum(bool(e["latency_predicted_ms"]) for e in measured)
    assert c["measured"] + c["cached"] == len(measured)
    assert "/ predicted" in err
    # every generation's line says what its front audit measured (search/front_audit.py)
    assert err.count("(front: ") >= 3 and "off by > 20%)" in err
    assert "learned latency predictor" in (out / "report.html").read_text()   # its banner
    for w in (out / "winners").iterdir():
        manifest = json.loads((w / "manifest.json").read_text())
        assert manifest["latency_source"] == "device" and manifest["latency_ms"]["p50"] > 0
