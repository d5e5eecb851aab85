"""Image folders and CSVs: the user's own split, channels from the model, damaged images."""
import pytest
import torch
from helpers.data_files import write_pngs

from pipeline.config import DataConfig
from pipeline.data import first_conv_in_channels, load_data
from pipeline.errors import UserError


def _layout(root, parts=("train", "val", "test"), n=(12, 4, 6)):
    for j, (part, k) in enumerate(zip(parts, n)):
        for i, cls in enumerate(("cat", "dog")):
            write_pngs(root / part / cls, k, seed=10 * j + i)


def test_train_val_test_folders_are_used_as_given(tmp_path):
    _layout(tmp_path)
    s = load_data(DataConfig(name="folder", path=str(tmp_path), lazy="false"), seed=0)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (24, 8, 12)
    assert s.labels == ["cat", "dog"] and s.test_from_source
    assert "your folder's own train/val/test split: train as given; val as given; test as given" in s.split_source


def test_missing_val_folder_is_carved_from_train(tmp_path):
    _layout(tmp_path, parts=("train", "test"), n=(20, 5))
    s = load_data(DataConfig(name="folder", path=str(tmp_path)), seed=0)
    assert len(s.y_test) == 10 and len(s.y_train) + len(s.y_val) == 40 and len(s.y_val) > 0
    assert "val carved from train" in s.split_source


def test_plain_class_folders_are_split_here(tmp_path):
    for cls in ("a", "b", "c"):
        write_pngs(tmp_path / cls, 10)
    s = load_data(DataConfig(name="folder", path=str(tmp_path)), seed=0)
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 30
    assert not s.test_from_source and "train/val/test split here" in s.split_source


def _csv(tmp_path, split_column=True):
    write_pngs(tmp_path / "img", 30)
    lines = ["path,label,split" if split_column else "path,label"]
    for i in range(30):
        part = "train" if i < 18 else "val" if i < 24 else "test"
        lines.append(f"img/{i}.png,{'odd' if i % 2 else 'even'}" + (f",{part}" if split_column else ""))
    (tmp_path / "list.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "list.csv"


def test_csv_with_a_split_column(tmp_path):
    path = _csv(tmp_path)
    s = load_data(DataConfig(name="csv", path=str(path)), seed=0)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (18, 6, 6)
    assert s.labels == ["even", "odd"] and "your CSV's own train/val/test split" in s.split_source


def test_csv_without_a_split_column_is_split_here(tmp_path):
    s = load_data(DataConfig(name="csv", path=str(_csv(tmp_path, split_column=False))), seed=0)
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 30 and not s.test_from_source


@pytest.mark.parametrize("line, words", [("img/0.png,even,holdout", "must be train, val or test"),
                                          ("img/nope.png,even,train", "not found"),
                                          ("img/0.png,even", "fields")])
def test_bad_csv_rows_are_one_line(tmp_path, line, words):
    path = _csv(tmp_path)
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(UserError, match=words):
        load_data(DataConfig(name="csv", path=str(path)), seed=0)


class _OneChannelNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.fc = torch.nn.Linear(4, 2)


def test_channels_auto_follows_the_models_first_conv(tmp_path):
    for cls in ("cat", "dog"):
        write_pngs(tmp_path / cls, 8, mode="RGB")
    cfg = DataConfig(name="folder", path=str(tmp_path))
    hint = first_conv_in_channels(_OneChannelNet())
    assert hint == 1
    assert load_data(cfg, seed=0, in_channels=hint).input_shape == (1, 1, 32, 32)
    assert load_data(cfg, seed=0).input_shape == (1, 3, 32, 32)        # no model hint: RGB files
    cfg.channels = "3"
    assert load_data(cfg, seed=0, in_channels=1).input_shape == (1, 3, 32, 32)  # explicit wins


def test_channels_auto_without_a_model_follows_grey_files(tmp_path):
    for cls in ("cat", "dog"):
        write_pngs(tmp_path / cls, 8, mode="L")
    assert load_data(DataConfig(name="folder", path=str(tmp_path)), seed=0).input_shape[1] == 1


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"not an image at all"])
@pytest.mark.parametrize("lazy", ["false", "true"])
def test_a_corrupt_png_is_one_line_naming_it(tmp_path, content, lazy):
    for cls in ("cat", "dog"):
        write_pngs(tmp_path / cls, 8)
    (tmp_path / "dog" / "broken.png").write_bytes(content)
    with pytest.raises(UserError, match="broken.png") as err:
        load_data(DataConfig(name="folder", path=str(tmp_path), lazy=lazy), seed=0)
    assert "\n" not in str(err.value)


def test_a_truncated_png_is_caught_before_training(tmp_path):
    for cls in ("cat", "dog"):
        write_pngs(tmp_path / cls, 8, size=(64, 64))
    whole = (tmp_path / "cat" / "3.png").read_bytes()
    (tmp_path / "cat" / "3.png").write_bytes(whole[:len(whole) // 2])
    for lazy in ("false", "true"):
        with pytest.raises(UserError, match="3.png"):
            load_data(DataConfig(name="folder", path=str(tmp_path), lazy=lazy), seed=0)


@pytest.mark.parametrize("key, value, words", [("channels", "2", "data.channels"),
                                                ("lazy", "maybe", "data.lazy"),
                                                ("limit", -1, "data.limit"),
                                                ("eval_images", -1, "data.eval_images"),
                                                ("crop_pad", -2, "data.crop_pad")])
def test_bad_data_keys(tmp_path, key, value, words):
    cfg = DataConfig(name="folder", path=str(tmp_path))
    setattr(cfg, key, value)
    with pytest.raises(UserError, match=words):
        load_data(cfg, seed=0)


@pytest.mark.parametrize("name", ["folder", "csv", "mnist", "fashion-mnist", "cifar10"])
def test_a_path_too_long_for_the_system_is_one_line(name):
    path = "x" * 300 + (".csv" if name == "csv" else "")
    with pytest.raises(UserError, match="File name too long") as err:
        load_data(DataConfig(name=name, path=path), seed=0)
    assert len(str(err.value)) < 300
