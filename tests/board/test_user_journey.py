"""The user's whole journey (issue 16), as one slow test: their own 1-channel 28x28 CNN
(`package.module:factory`), weights trained by their own script, their own images split into
train/ val/ test/ class folders; `edgeprune run`, the bundle's predict.py, then `deploy` to the
emulated aarch64 board with the int8 files checked there."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ssh]
# The board fixture's environment lists only the board's profile folder: name the shipped file.
HOST_ORT = Path(__file__).resolve().parents[2] / "device_profiles" / "host-ort.toml"

MODULE = textwrap.dedent('''
    import torch.nn as nn

    class SmallNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
            self.head = nn.Linear(32, 10)

        def forward(self, x):
            return self.head(self.features(x).mean((2, 3)))

    def build():
        return SmallNet()
''')
BUDGET = ["train.epochs=1", "search.population=4", "search.generations=2",
          "search.sensitivity=false", "search.refine_per_generation=1",
          "search.front_finetune_steps=3", "search.round_to=2", "recover.epochs=2", "winners=1",
          "search.supernet_epochs=1",
          "export.max_int8_drop=0.05"]


def write_user_folders(root, per_split=(300, 80, 80)):
    """Real handwritten digits as 1-channel 28x28 PNGs in train/ val/ test/ class folders."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(0).permutation(len(d.target))
    start = 0
    for split, n in zip(("train", "val", "test"), per_split):
        for i in order[start:start + n]:
            folder = root / split / str(d.target[i])
            folder.mkdir(parents=True, exist_ok=True)
            img = Image.fromarray((d.images[i] * 255 / 16).astype(np.uint8), "L").resize((28, 28))
            img.save(folder / f"{i}.png")
        start += n


def train_like_the_user(pkg_root, data_root, weights):
    """The team's own training script: their model, their train/ folder, a state dict."""
    script = textwrap.dedent(f'''
        import sys, torch
        sys.path.insert(0, {str(pkg_root)!r})
        from userpkg.nets import build
        from pipeline.config import DataConfig
        from pipeline.data import load_data
        s = load_data(DataConfig(name="folder", path={str(data_root)!r}, image_size=28), 0,
                      in_channels=1)
        torch.manual_seed(0)
        model = build()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(15):
            order = torch.randperm(len(s.y_train))   # the folders come class by class
            for i in range(0, len(s.y_train), 32):
                batch = order[i:i + 32]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(s.x_train[batch]), s.y_train[batch])
                loss.backward()
                opt.step()
        torch.save(model.state_dict(), {str(weights)!r})
    ''')
    subprocess.run([sys.executable, "-c", script], check=True, timeout=600)


def test_own_model_own_split_run_predict_and_deploy_with_int8(board, tmp_path):
    pkg = tmp_path / "code" / "userpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(MODULE)
    data = tmp_path / "images"
    write_user_folders(data)
    weights = tmp_path / "mynet.pt"
    train_like_the_user(tmp_path / "code", data, weights)

    env = {**board.env, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(tmp_path / "code"), os.environ.get("PYTHONPATH", "")]))}
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--out", str(out),
                           "--model", "userpkg.nets:build", "--weights", str(weights),
                           "--device", str(HOST_ORT), "data.name=folder", f"data.path={data}",
                           "data.image_size=28", *BUDGET], env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    described = json.loads((out / "data.json").read_text())
    assert described["test_from_source"] is True and described["input_shape"] == [1, 1, 28, 28]
    assert "may overlap" not in done.stderr          # their own split: no overlap warning
    assert (out / "winners").is_dir(), done.stderr[-3000:]
    (winner,) = [p for p in (out / "winners").iterdir() if p.is_dir()]

    pred = subprocess.run([sys.executable, "predict.py", "--model", "model.onnx", "--input",
                           "samples.npy", "--json"], cwd=winner, capture_output=True, text=True,
                          timeout=300)
    assert pred.returncode == 0, pred.stderr
    assert len(json.loads(pred.stdout)["predictions"]) == len(np.load(winner / "samples.npy"))

    deployed = subprocess.run([sys.executable, "-m", "pipeline", "deploy", str(winner),
                               "--device", "qemu-arm64"], env=env, capture_output=True,
                              text=True, timeout=900)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr[-3000:]
    for key in ("onnx", "tflite", "onnx_int8", "tflite_int8"):
        assert f"{key}: ok" in deployed.stdout, deployed.stdout
