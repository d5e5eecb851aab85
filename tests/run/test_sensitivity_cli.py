import json

from pipeline.cli import main


def test_sensitivity_command_prints_and_writes_rows(tmp_path, capsys):
    out = tmp_path / "sens"
    code = main(["sensitivity", "--out", str(out), "--json", "model.name=resnet20-tiny",
                 "train.epochs=1", "search.sensitivity_keeps=0.5", "search.round_to=2"])
    assert code == 0
    captured = capsys.readouterr()
    rows = json.loads((out / "sensitivity.json").read_text())
    assert rows and json.loads(captured.out[:captured.out.rindex("]") + 1]) == rows
    for row in rows:
        assert row["kept_channels"] < row["channels"] and row["latency"] > 0
    assert len({(r["group"], r["kept_channels"]) for r in rows}) == len(rows)  # no duplicates
    assert "acc drop" in captured.err  # the table on screen
