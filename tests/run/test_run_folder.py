"""The run folder on the way in: a run never overwrites another, set-up failures leave nothing,
a resume reads its checkpoint before writing (torn last line dropped, corruption refused,
a finished run left alone)."""
import json

import pytest

from pipeline.cli import main
from pipeline.run_folder import check_resumable, new_run_dir, repair_evaluations
from pipeline.search.checkpoint import write_evaluations
from pipeline.search.records import Evaluation
from pipeline.errors import UserError


def _evaluation(i: int) -> Evaluation:
    return Evaluation(key=f"k{i}", id=f"g000-i{i:02d}", generation=0, channels={"a": 4 + i},
                      params=100 + i, macs=1000 + i, accuracy_bn=0.5,
                      latency_ms={"p50": 0.1, "p90": 0.2})


def _finished_run(folder):
    """The files a completed run leaves that a new run would overwrite first."""
    folder.mkdir()
    (folder / "config.toml").write_text('seed = 0\ndevice = "host-ort"\n')
    (folder / "status.json").write_text(json.dumps({"complete": True, "stage": "done"}))
    (folder / "timings.json").write_text(json.dumps({"search": 12.5}))
    write_evaluations(folder / "evaluations.jsonl", [_evaluation(0), _evaluation(1)])
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_out_on_a_folder_holding_a_run_is_refused_before_anything_is_written(tmp_path, capsys):
    before = _finished_run(tmp_path / "done")
    code = main(["run", "--out", str(tmp_path / "done"), "data.name=mnist",
                 f"data.path={tmp_path / 'missing'}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "holds a run already" in err and "--resume" in err
    assert _snapshot(tmp_path / "done") == before


def test_bad_data_path_is_refused_before_the_folder_is_made(tmp_path, capsys):
    out = tmp_path / "new"
    assert main(["run", "--out", str(out), "data.name=mnist", f"data.path={tmp_path / 'nope'}"]) == 2
    assert "data.path" in capsys.readouterr().err
    assert not out.exists()


def test_a_run_failing_in_set_up_leaves_no_run_folder(tmp_path, capsys):
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    out = tmp_path / "runs" / "new"
    code = main(["run", "--out", str(out), "data.name=mnist", f"data.path={empty}"])
    err = capsys.readouterr().err
    assert code == 2 and "removed the unfinished run folder" in err
    assert not out.exists()


def test_out_that_is_a_file_or_not_empty(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        new_run_dir(str(tmp_path / "file"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        new_run_dir(str(tmp_path / "busy"))
    with pytest.raises(UserError, match="cannot be used"):
        new_run_dir(str(tmp_path / ("x" * 300)))
    assert not (tmp_path / "fresh").exists() and new_run_dir(str(tmp_path / "fresh"))


def test_resume_of_a_completed_run_changes_nothing(tmp_path, capsys):
    before = _finished_run(tmp_path / "done")
    assert main(["run", "--resume", str(tmp_path / "done")]) == 0
    assert "already complete" in capsys.readouterr().out
    assert _snapshot(tmp_path / "done") == before


def test_resume_with_a_corrupt_search_state_is_refused_in_one_line(tmp_path, capsys):
    folder = tmp_path / "run"
    _finished_run(folder)
    (folder / "status.json").write_text(json.dumps({"complete": False, "stage": "start"}))
    (folder / "search_state.json").write_text('{"generation_done": 1, "popul')  # torn
    before = _snapshot(folder)
    assert main(["run", "--resume", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "search_state.json' is corrupt" in err
    assert _snapshot(folder) == before   # status.json not flipped, nothing rewritten


def test_a_torn_last_line_is_dropped_and_said(tmp_path, capsys):
    path = tmp_path / "evaluations.jsonl"
    write_evaluations(path, [_evaluation(i) for i in range(3)])
    text = path.read_text()
    path.write_text(text[: len(text) - 25])   # what a writer killed mid-line leaves
    assert repair_evaluations(path) == 2
    assert "dropped the torn last line" in capsys.readouterr().err
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == \
        ["g000-i00", "g000-i01"]
    assert repair_evaluations(path) == 2   # a clean file is left as it is


def test_a_corrupt_line_before_the_end_is_refused(tmp_path):
    folder = tmp_path / "run"
    _finished_run(folder)
    (folder / "status.json").write_text(json.dumps({"complete": False}))
    lines = (folder / "evaluations.jsonl").read_text().splitlines()
    (folder / "evaluations.jsonl").write_text("\n".join(["{oops", *lines]) + "\n")
    with pytest.raises(UserError, match="line 1"):
        check_resumable(folder)


def test_the_default_folder_never_collides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = new_run_dir(None)
    first.mkdir(parents=True)
    (first / "config.toml").write_text("")
    second = new_run_dir(None)
    assert second != first and not second.exists()
