"""`edgeprune run --model package.module:factory` on a model defined only in this test."""
import json
import textwrap

from pipeline.cli import main

MODULE = textwrap.dedent('''
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)

        def forward(self, x):
            return (x + self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))).relu()

    class MyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(16), nn.ReLU())
            self.block = Block(16)
            self.down = nn.Sequential(nn.Conv2d(16, 24, 3, stride=2, padding=1, bias=False),
                                      nn.BatchNorm2d(24), nn.ReLU())
            self.head = nn.Linear(24, 10)

        def forward(self, x):
            x = self.down(self.block(self.stem(x)))
            return self.head(x.mean((2, 3)))

    def build():
        return MyNet()
''')


def test_run_drives_the_main_job_on_a_user_factory(tmp_path, monkeypatch, tiny_args):
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = [a for a in tiny_args if not a.startswith("model.name")]
    out = tmp_path / "run"
    code = main(["run", "--out", str(out), "--model", "userpkg.nets:build", *args,
                 "export.formats=onnx"])
    assert code == 0
    pareto = json.loads((out / "pareto.json").read_text())
    assert "stem.0" in pareto["full_channels"]
    (winner,) = [w for w in (out / "winners").iterdir()][:1]
    manifest = json.loads((winner / "manifest.json").read_text())
    assert manifest["model"] == "userpkg.nets:build"
    assert manifest["artifacts"]["onnx"]["max_abs_diff"] < 1e-4
    assert json.loads((winner / "model.json").read_text())["base_ref"] == "userpkg.nets:build"


def test_user_factory_that_cannot_import_is_one_line(tmp_path, capsys):
    code = main(["run", "--out", str(tmp_path / "o"), "--model", "no_such_pkg.mod:build"])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_pkg" in err and "Traceback" not in err
