"""`edgeprune criteria` end to end on a tiny model, and the report's heat-map."""
import json

import pytest

from pipeline.cli import main

TINY = ["model.name=resnet20-tiny", "data.image_size=8", "train.epochs=2", "search.round_to=2",
        "criteria.population=4", "criteria.generations=2", "criteria.val_subset=120"]


def test_criteria_command_prints_and_writes_the_study(tmp_path, capsys):
    out = tmp_path / "crit"
    assert main(["criteria", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    study = json.loads((out / "criteria.json").read_text())
    names = ["l1", "l2", "fpgm", "bn", "taylor"]
    assert study["criteria"] == names and len(study["matrix"]) == 5
    assert all(study["matrix"][i][i] == 1.0 for i in range(5))
    assert sorted(sum(study["clusters"], [])) == sorted(names)
    assert len(study["representatives"]) == len(study["clusters"])
    assert study["blend"]["criteria"] == study["representatives"]
    assert study["fitness"] == max(c["fitness"] for c in study["candidates"])
    assert set(study["targets"]) == {"uniform-0.5", "uniform-0.3"}
    assert study["search_images"] == 120 and study["holdout_images"] > 0
    assert set(study["holdout"]) == {"blend", *names}
    assert study["search_evaluations"] == 2 * len(study["candidates"])
    assert (out / "criteria.png").stat().st_size > 1000 and (out / "config.toml").is_file()
    for text in ("agreement (mean per-group spearman", "clusters:", "chosen weights:",
                 "held-out check", f"fitness {100 * study['fitness']:.2f}%"):
        assert text in printed
    assert sum(line.startswith("  gen ") for line in printed.splitlines()) == len(study["candidates"])


@pytest.mark.parametrize("override, message", [
    ("criteria.names=l1,l3", "unknown importance criterion 'l3'"),
    ("criteria.correlation=pearson", "criteria.correlation must be spearman or kendall"),
    ("criteria.keeps=0.5,1.5", "criteria.keeps must be fractions"),
    ("criteria.val_subset=5000", "must be smaller than the validation split"),
    ("search.importance=blend recover.method=sfp", "remove taylor from criteria.names"),
])
def test_bad_criteria_settings_are_one_line_errors(tmp_path, capsys, override, message):
    out = tmp_path / "crit"
    assert main(["criteria", "--out", str(out), *TINY, *override.split()]) == 2
    assert message in capsys.readouterr().err
    assert not (out / "criteria.json").exists()


def test_the_report_shows_the_heat_map_when_the_run_has_criteria(tmp_path):
    from pipeline.criteria.study import read_blend
    from pipeline.report import write_report

    from tests.report.fixture_run import make_run_dir

    run = make_run_dir(tmp_path)
    before = write_report(run).read_text().count("data:image/png;base64,")
    (run / "criteria.json").write_text(json.dumps({
        "criteria": ["l1", "bn"], "matrix": [[1.0, 0.3], [0.3, 1.0]], "clusters": [["l1"], ["bn"]],
        "correlation": "kendall", "blend": {"criteria": ["l1", "bn"], "weights": [0.4, 0.6]}}))
    page = write_report(run).read_text()
    assert page.count("data:image/png;base64,") == before + 1
    assert "pruned with the blend l1 0.40, bn 0.60" in page
    assert read_blend(run / "criteria.json").weights == (0.4, 0.6)
    (run / "criteria.json").write_text(json.dumps({"criteria": ["l1"], "blend": []}))
    assert "criteria.json is malformed" in write_report(run).read_text()
