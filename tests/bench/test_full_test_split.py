"""bench.common.full_test_split: every official test image, normalised as the subset's splits."""
import torch
from helpers.data_files import write_idx_set

from bench.common import full_test_split
from pipeline.config import load_config
from pipeline.data import load_data


def test_the_whole_test_part_of_a_subset_with_validation_from_unused_images(tmp_path):
    write_idx_set(tmp_path, n_train=200, n_test=100)
    cfg = load_config(None, ["data.name=mnist", f"data.path={tmp_path}", "data.image_size=28",
                             "data.limit=60", "data.val_images=50"])
    splits = load_data(cfg.data, cfg.seed, in_channels=1)
    x, y = full_test_split(cfg, splits)
    assert len(y) == 100 and len(splits.y_test) == 20 and x.shape[1:] == splits.x_test.shape[1:]
    # normalised with the subset's statistics: its own test images appear unchanged
    mine = {bytes(torch.round(r * 1e3).to(torch.int32).numpy().tobytes()) for r in splits.x_test}
    full = {bytes(torch.round(r * 1e3).to(torch.int32).numpy().tobytes()) for r in x}
    assert mine <= full
