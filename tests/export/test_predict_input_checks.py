"""predict.py checks the images against the manifest's input before running the model."""
import subprocess
import sys

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, trained_model, digits_splits):
    from pipeline.export import export_winner, write_bundle

    out = tmp_path_factory.mktemp("bundle")
    artifacts = export_winner(trained_model, out, digits_splits, formats="onnx")
    write_bundle(out, {"artifacts": artifacts}, splits=digits_splits)
    return out


def _predict(bundle, images):
    np.save(bundle / "input.npy", images)
    return subprocess.run([sys.executable, "predict.py", "--model", "model.onnx", "--input",
                           "input.npy", "--json"], cwd=bundle, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("make, expected", [
    (lambda s: np.zeros((2, 3, *s[2:]), np.float32), "input shape is [2, 3,"),
    (lambda s: np.zeros((2, *s[1:3], s[3] + 1), np.float32), "channels first"),
    (lambda s: np.zeros((2, *s[1:]), np.uint8), "divide 8-bit images by 255"),
    (lambda s: np.full((2, *s[1:]), 255.0, np.float32), "images in [0, 1]"),
])
def test_wrong_images_get_one_line_and_exit_2(bundle, digits_splits, make, expected):
    result = _predict(bundle, make(list(digits_splits.input_shape)))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr


def test_right_images_run(bundle, digits_splits):
    result = _predict(bundle, np.load(bundle / "samples.npy"))
    assert result.returncode == 0, result.stderr
    assert '"predictions"' in result.stdout
    bad = bundle / "pickled.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    refused = subprocess.run([sys.executable, "predict.py", "--input", str(bad)], cwd=bundle,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "cannot read" in refused.stderr
