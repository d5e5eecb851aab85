"""`search.supernet_epochs > 0` in the main job: trained once, step 1 and recovery prune it,
kept in the run folder for a resume; a damaged copy is one line."""
import json

import pytest

from pipeline.cli import main
from tests.run.conftest import TINY

pytestmark = pytest.mark.slow


def test_run_trains_the_supernet_once_and_resume_reuses_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), *TINY, "search.supernet_epochs=1"]) == 0
    err = capsys.readouterr().err
    assert err.count("supernet: training one set of weights") == 1
    saved = json.loads((out / "supernet" / "order.json").read_text())
    assert saved["info"]["epochs"] == 1 and set(saved["order"])
    assert (out / "supernet" / "weights.safetensors").stat().st_size > 0
    assert list((out / "winners").iterdir())

    (out / "status.json").write_text(json.dumps({"complete": False, "stage": "winners"}))
    assert main(["run", "--resume", str(out)]) == 0
    err = capsys.readouterr().err
    assert "supernet: loaded from" in err and "training one set" not in err

    (out / "supernet" / "order.json").write_text('{"order": {"conv1": [0, 0]}}')
    (out / "status.json").write_text(json.dumps({"complete": False, "stage": "winners"}))
    assert main(["run", "--resume", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "does not order group" in err[-1] and "delete" in err[-1]
