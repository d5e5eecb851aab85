"""The criteria-blend benchmark in its tiny smoke mode: it runs, writes a complete result file
and its README section. The figures of a smoke run mean nothing; only their shape is checked."""
import json

import pytest

from helpers.bench_results import results_in

pytestmark = pytest.mark.slow


def test_criteria_blend_smoke_writes_every_row_and_the_readme_section(tmp_path):
    from bench import criteria_blend
    from bench.readme import write_readme

    import torch

    from pipeline.models import create_model
    from pipeline.prune import SearchSpace

    # a run folder's winner, as `edgeprune run` writes it: its channels become a third target
    space = SearchSpace.from_model(create_model("resnet20-tiny", num_classes=10, in_channels=1),
                                   torch.zeros(1, 1, 8, 8))
    winner = tmp_path / "run" / "winners" / "knee"
    winner.mkdir(parents=True)
    (winner / "manifest.json").write_text(json.dumps({"channels": space.uniform(0.7)}))
    with results_in(tmp_path, own_cache=True) as folder:
        criteria_blend.main(["--smoke", "--winners", str(tmp_path / "run")])
        result = json.loads((folder / "criteria_blend.json").read_text())
        readme = write_readme(smoke=True).read_text()
        # a rerun (after an interruption, say) keeps the finished seed instead of redoing it
        criteria_blend.main(["--smoke", "--winners", str(tmp_path / "run")])
        again = json.loads((folder / "criteria_blend.json").read_text())
    assert result["smoke"] is True and result["data"] == "digits"
    (model,) = result["models"].values()
    names = {"l1", "l2", "fpgm", "bn", "taylor", "blend"}
    assert set(model["targets"]) == {"uniform-0.5", "winner-knee"}
    assert model["targets"]["winner-knee"] == space.uniform(0.7)
    for target in model["targets"]:
        summary = model["summary"][target]
        assert set(summary["rows"]) == names
        for row in summary["rows"].values():
            assert 0.0 <= row["min"] <= row["median"] <= row["max"] <= 1.0
        assert summary["verdict"] in ("blend wins", "tie", "blend loses")
        runs = [r for r in model["runs"] if r["target"] == target]
        assert len(runs) == len(names) * len(result["config"]["seeds"])
    (study,) = model["studies"]
    assert study["blend"]["criteria"] and study["search_evaluations"] > 0
    assert set(study["holdout"]["blend"]) == set(model["targets"])   # the blend was judged there
    assert model["cost"]["blend_study_s"][0] > 0
    assert "## 5. Blended importance criteria" in readme and "search cost" in readme
    # one plain sentence per model saying, per target, whether the blend won, tied or lost
    assert f"- {next(iter(result['models']))}: the blend " in readme
    assert "seeds)" in readme and result["config"]["data_overrides"] == []   # digits: none
    assert again["models"] == result["models"]   # timings too: nothing was redone
