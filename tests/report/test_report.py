import json
import re

import pytest

pytest.importorskip("matplotlib")

from pipeline.errors import UserError  # noqa: E402
from pipeline.report import pareto_front, plot_channels, plot_latency, plot_pareto, write_report  # noqa: E402

from .fixture_run import FULL, make_run_dir  # noqa: E402


def png_is_drawn(path) -> bool:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    return img.shape[0] > 100 and img.shape[1] > 100 and float(img[..., :3].std()) > 0.05


def test_report_has_the_table_the_figures_and_the_config(tmp_path):
    run = make_run_dir(tmp_path)
    page = write_report(run).read_text()
    assert page.count("data:image/png;base64,") == 4  # pareto, 2 channel charts, latency
    assert "<table>" in page and "baseline (unpruned)" in page
    for winner in ("fastest", "balanced"):
        assert f"<td>{winner}" in page
    manifest = json.loads((run / "winners" / "fastest" / "manifest.json").read_text())
    speedup = 1.1 / manifest["latency_ms"]["p50"]
    assert f"{speedup:.2f}x" in page
    assert "accuracy dropped 2.1 points" in page  # a failed export shows its error
    assert "population = 12" in page
    assert "60 individuals evaluated over 4 generations, 12 of them in the sensitivity scan" in page
    assert "emulation times" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from anywhere
    for png in (run / "figures").glob("*.png"):
        assert png_is_drawn(png), png


def test_emulated_latencies_are_flagged_next_to_the_figures(tmp_path):
    page = write_report(make_run_dir(tmp_path, emulated=True)).read_text()
    assert "emulation times" in page
    assert page.count("comparable only with each other") >= 2  # pareto and latency captions


def test_report_tolerates_missing_optional_keys(tmp_path):
    run = make_run_dir(tmp_path)
    for manifest in (run / "winners").glob("*/manifest.json"):
        manifest.write_text(json.dumps({"channels": json.loads(manifest.read_text())["channels"]}))
    (run / "timings.json").unlink()
    (run / "config.toml").unlink()
    pareto = json.loads((run / "pareto.json").read_text())
    (run / "pareto.json").write_text(json.dumps({"baseline": {"accuracy": pareto["baseline"]["accuracy"]}}))
    page = write_report(run).read_text()
    assert page.count("data:image/png;base64,") == 3  # no latency samples: no latency figure
    assert "No exported file was measured" in page and "config.toml not found" in page
    assert "model <b>–</b>" in page


def test_manifests_with_statistics_only_say_so_not_that_nothing_was_measured(tmp_path):
    run = make_run_dir(tmp_path)
    total = 0
    for path in (run / "winners").glob("*/manifest.json"):
        manifest = json.loads(path.read_text())
        for artifact in manifest["artifacts"].values():
            lat = artifact.get("latency_ms")
            if lat:
                lat["n"] = len(lat.pop("samples"))  # as runs before samples were kept wrote them
                total += lat["n"]
        path.write_text(json.dumps(manifest))
    page = write_report(run).read_text()
    assert page.count("data:image/png;base64,") == 3  # no latency figure without the runs
    assert f"({total:,} timed runs)" in page and "No exported file was measured" not in page


def test_report_of_a_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not a folder"):
        write_report(tmp_path / "nope")


def test_pareto_front_keeps_only_undominated_points():
    pts = [(1.0, 0.90, 0), (0.5, 0.80, 1), (0.6, 0.79, 2), (2.0, 0.95, 3), (2.5, 0.94, 4), (0.5, 0.70, 5)]
    assert pareto_front(pts) == [1, 0, 3]


def test_plots_without_device_latency_use_macs(tmp_path):
    evals = [{"id": "a", "accuracy": 0.9, "macs": 2_000_000, "latency_source": "flops"},
             {"id": "b", "accuracy": 0.8, "macs": 1_000_000, "feasible": False}]
    flops = [{"accuracy": 0.85, "macs": 1_500_000}]
    out = plot_pareto(evals, {"accuracy": 0.95, "macs": 4_000_000}, tmp_path / "p.png", flops_points=flops,
                      winners=[{"id": "a", "reason": "best"}])
    assert png_is_drawn(out)
    assert png_is_drawn(plot_channels({"conv1": 3}, FULL, tmp_path / "c.png"))
    assert png_is_drawn(plot_latency({"x · onnx": [1.0, 1.2, 1.1], "y · tflite": []}, tmp_path / "l.png"))


def test_the_summary_says_how_many_members_the_front_floor_left_off(tmp_path):
    run = make_run_dir(tmp_path)
    pareto = json.loads((run / "pareto.json").read_text())
    assert "below its floor" not in write_report(run).read_text()   # none left off
    pareto["front_floor"] = {"share": 0.5, "accuracy": 0.4955, "left_off": 3}
    (run / "pareto.json").write_text(json.dumps(pareto))
    assert "(3 more below its floor, 49.5% estimated accuracy, left off)" in \
        write_report(run).read_text()
