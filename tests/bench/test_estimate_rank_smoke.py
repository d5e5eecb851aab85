"""bench.estimate_rank in its smoke mode: every estimator scored, tau and cost recorded, the
README section renders. Smoke figures mean nothing (4 architectures, 1-epoch baseline)."""
import json

import pytest

from helpers.bench_results import results_in

pytestmark = pytest.mark.slow


def test_estimate_rank_records_tau_and_cost_per_estimator(tmp_path):
    from bench import estimate_rank
    from bench.readme_seeds import estimate_section

    with results_in(tmp_path) as folder:
        estimate_rank.main(["--smoke"])
    result = json.loads((folder / "estimate_rank_digits.json").read_text())
    assert len(result["rows"]) == estimate_rank.SMOKE["n"]
    estimators = result["estimators"]
    assert {"bn_recal", "kd_quick_2", "recovered"} <= set(estimators)
    for name, v in estimators.items():
        assert v["seconds_per_arch"] > 0
        if name != "recovered":
            assert -1.0 <= v["kendall_tau"] <= 1.0
    assert any("| bn_recal |" in line for line in estimate_section(result))
