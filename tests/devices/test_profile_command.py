"""`edgeprune profile`: two files of the same name are told apart; the format must fit."""
from pipeline.cli import main
from pipeline.commands.profile import distinct_names
from pipeline.devices.testing_models import make_conv_onnx
from tests.devices.conftest import SHAPE


def test_two_model_onnx_files_are_told_apart(tmp_path, local_profile, capsys):
    for name in ("knee", "fast"):
        (tmp_path / "winners" / name).mkdir(parents=True)
    a = make_conv_onnx(tmp_path / "winners" / "knee" / "model.onnx", widths=(4,), input_shape=SHAPE)
    b = make_conv_onnx(tmp_path / "winners" / "fast" / "model.onnx", widths=(8,), input_shape=SHAPE)
    assert main(["profile", "--device", str(local_profile), "--no-cache", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "knee/model.onnx" in out and "fast/model.onnx" in out


def test_distinct_names_use_the_shortest_telling_tail(tmp_path):
    paths = [tmp_path / "x" / "a.onnx", tmp_path / "y" / "a.onnx", tmp_path / "y" / "b.onnx"]
    names = distinct_names(paths)
    assert [names[p] for p in paths] == ["x/a.onnx", "y/a.onnx", "b.onnx"]
