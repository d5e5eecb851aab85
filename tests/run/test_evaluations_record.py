"""What a real run records: every architecture evaluated (baseline, sensitivity probes, GA) in
evaluations.jsonl, and every timed run of the winner files in their manifests (the report's
latency figure is drawn from them)."""
import json

import pytest

from pipeline.cli import main

pytestmark = pytest.mark.slow

# conftest's TINY budget (module scope cannot take its function-scoped fixture).
# search.supernet_epochs=0: this run also covers the search without a supernet.
TINY = ["model.name=resnet20-tiny", "train.epochs=2", "search.population=4", "search.round_to=2",
        "search.supernet_epochs=0",
        "search.generations=2", "search.sensitivity_keeps=0.5", "search.refine_per_generation=1",
        "search.front_finetune_steps=3", "recover.epochs=1", "recover.max_candidates=1"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    import contextlib
    import io

    out = tmp_path_factory.mktemp("evaluations") / "run"
    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        assert main(["run", "--out", str(out), *TINY, "export.formats=onnx", "winners=1"]) == 0
    (out / "test-stderr.txt").write_text(log.getvalue())
    return out


def test_progress_line_says_its_fastest_within_1_point_is_a_search_estimate(run_dir):
    lines = [x for x in (run_dir / "test-stderr.txt").read_text().splitlines()
             if x.startswith("gen ")]
    assert lines
    for line in lines:   # a line probe's pass, once there is one, leads (verified, not estimated)
        assert ("fastest within 1 point (search estimate)" in line or "none within 1 point" in line
                or ("fastest within 1 point after recovery" in line
                    and "by search estimate alone" in line))


def test_supernet_epochs_0_trains_no_supernet(run_dir):
    assert not (run_dir / "supernet").exists()
    assert "supernet:" not in (run_dir / "test-stderr.txt").read_text()


def test_every_measured_architecture_is_recorded_with_its_source(run_dir):
    out = run_dir
    lines = [json.loads(x) for x in (out / "evaluations.jsonl").read_text().splitlines() if x]
    pareto = json.loads((out / "pareto.json").read_text())
    sensitivity = json.loads((out / "sensitivity.json").read_text())

    # One line per architecture this run pruned and scored: nothing evaluated is left out.
    assert len({e["key"] for e in lines}) == len(lines) == pareto["counters"]["evaluated"]
    by_source = {}
    for e in lines:
        by_source.setdefault(e["source"], []).append(e)
    assert set(by_source) == {"baseline", "sensitivity", "search"}
    (base,) = by_source["baseline"]
    assert base["channels"] == pareto["full_channels"] and base["generation"] == -1
    # Every probe of sensitivity.json is a line (a probe the GA proposed again stays one line).
    probes = {(r["group"], r["kept_channels"]) for r in sensitivity}
    recorded = set()
    for e in by_source["sensitivity"]:
        assert e["generation"] == -2 and e["id"].startswith("sens-")
        changed = [(g, c) for g, c in e["channels"].items() if c != pareto["full_channels"][g]]
        assert len(changed) == 1
        recorded.add(changed[0])
    assert recorded == probes
    assert all(e["latency_ms"]["p50"] > 0 for e in lines)
    assert all(e["generation"] >= 0 for e in by_source["search"])


def test_manifests_keep_the_timed_runs_and_the_report_draws_them(run_dir):
    (manifest,) = [json.loads(p.read_text()) for p in run_dir.glob("winners/*/manifest.json")]
    measured = {k: a["latency_ms"] for k, a in manifest["artifacts"].items() if a.get("path")}
    assert "onnx" in measured  # (its int8 file may be dropped by the accuracy check)
    for lat in measured.values():
        # Every timed run of every interleaved round, so at least the runs of one round.
        assert len(lat["samples"]) >= lat["n"] and min(lat["samples"]) > 0
        assert min(lat["samples"]) <= lat["p50"] <= max(lat["samples"])
    page = (run_dir / "report.html").read_text()
    assert "latency distribution per exported file" in page
    assert "No exported file was measured" not in page and "timed runs" not in page
    # The search summary counts the probes and the baseline the file now holds.
    assert "of them in the sensitivity scan, one the unpruned baseline" in page
