"""`search.importance = blend` in the main job: found once, written, reused on resume."""
import json

import pytest

from pipeline.cli import main
from tests.run.conftest import TINY

pytestmark = pytest.mark.slow

BLEND = ["search.importance=blend", "data.image_size=8", "criteria.population=4",
         "criteria.generations=1", "criteria.val_subset=120"]


def test_run_with_a_blend_writes_criteria_and_reuses_it_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), *TINY, *BLEND]) == 0
    err = capsys.readouterr().err
    study = json.loads((out / "criteria.json").read_text())
    assert err.count("criteria: chosen blend") == 1
    assert "Importance criteria blend" in (out / "report.html").read_text()
    assert json.loads((out / "status.json").read_text())["complete"] is True
    assert list((out / "winners").iterdir())

    # As if it had been stopped after the search: a completed run is never redone.
    (out / "status.json").write_text(json.dumps({"complete": False, "stage": "winners"}))
    assert main(["run", "--resume", str(out)]) == 0
    err = capsys.readouterr().err
    assert "criteria: reusing the blend of criteria.json" in err and "chosen blend" not in err
    assert json.loads((out / "criteria.json").read_text()) == study
