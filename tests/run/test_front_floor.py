"""search.front_floor=0 through a whole run: no floor, so nothing is left off the reported
front, no fallback is announced, and the finish recovers from that front."""
import json

from pipeline.cli import main
from pipeline.search.records import Evaluation


def dominates(a: Evaluation, b: Evaluation) -> bool:
    return (a.accuracy >= b.accuracy and a.latency_objective() <= b.latency_objective()
            and (a.accuracy, a.latency_objective()) != (b.accuracy, b.latency_objective()))


def test_no_floor_reports_a_whole_non_dominated_front(tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), *tiny_args, "search.front_floor=0",
                 "export.formats=onnx"]) == 0
    err = capsys.readouterr().err
    pareto = json.loads((out / "pareto.json").read_text())
    assert pareto["front_floor"] == {"share": 0.0, "accuracy": 0.0, "left_off": 0}
    assert "reaches the floor" not in err
    evaluations = [Evaluation.from_json(json.loads(x))
                   for x in (out / "evaluations.jsonl").read_text().splitlines()]
    searched = {e.key: e for e in evaluations if e.generation >= 0}
    front = [Evaluation.from_json(m) for m in pareto["front"]]
    assert front and all(m.latency_ms for m in front)   # every member measured
    # nothing the GA evaluated beats a reported member on both objectives
    assert not any(dominates(e, m) for m in front for e in searched.values())
    # ...and every one left off is beaten (or tied) by a reported member
    keys = {m.key for m in front}
    assert all(any(dominates(m, e) or (m.accuracy, m.latency_objective())
                   == (e.accuracy, e.latency_objective()) for m in front)
               for e in searched.values() if e.key not in keys)
    assert any((out / "winners").iterdir())
