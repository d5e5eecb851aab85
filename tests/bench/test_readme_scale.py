"""The scaling section of bench/README.md says what the result files hold, PSS first."""
from bench.readme_scale import scale_section

WHEN = {"git_commit": "abcdef1234567", "finished_utc": "2026-12-04T00:00:00Z",
        "load_average": [1.0], "cpu_count": 2}
LAZY = {**WHEN, "images": 20000, "image_size": 96, "config": {"workers": 2}, "peak_rss_mb": 1500,
        "worker_peak_rss_mb": 900, "in_memory_pixels_mb": 2109, "train_epoch_s": 290,
        "train_steps": 20, "train_epoch_extrapolated": True, "loader_epoch_s": 40}


def test_nothing_to_say_without_results():
    assert scale_section(None, None, None) == []


def test_the_bound_is_judged_on_the_tree_pss_when_the_result_has_it():
    over = "\n".join(scale_section({**LAZY, "peak_tree_pss_mb": 2300}, None, None))
    under = "\n".join(scale_section({**LAZY, "peak_tree_pss_mb": 1900}, None, None))
    assert "peak PSS of the process tree 2,300 MB" in over and "over the 2 GB bound" in over
    assert "under the 2 GB bound" in under and "extrapolated from 20 steps" in under


def test_pool_and_large_input_rows():
    pool = {**WHEN, "models": 12, "rounds": 3, "one_board_median_s": 40.0,
            "two_boards_median_s": 22.0, "ratio": 0.55}
    run = {"wall_s": 300, "peak_tree_pss_mb": 1800, "peak_tree_rss_mb": 2500,
           "peak_largest_rss_mb": 1400}
    small = {**run, "batch_size": 8, "peak_tree_pss_mb": 2100}
    large = {**WHEN, "model": "m", "image_size": 224, "images": 400, "batch_size": 16,
             "runs": {"local": run, "ray": run, "local-batch8": small}, "same_front": True}
    text = "\n".join(scale_section(None, pool, large))
    assert "ratio **0.55**" in text and "search.executor=ray, data.batch_size=16" in text
    assert text.count("peak PSS of the process tree 1,800 MB") == 2
    assert text.count("under the 2 GB bound") == 2
    (row,) = [line for line in text.splitlines() if "data.batch_size=8" in line]
    assert "search.executor=local," in row and "over the 2 GB bound" in row
