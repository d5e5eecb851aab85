"""Bad inputs, tried as a careless user or a hostile file would: each gets one line on stderr,
exit code 2, no traceback, nothing executed from a file and nothing of the user's lost.

Every case runs the real command line in a subprocess (what a user runs), so a traceback
printed by any layer, a warning on stderr, or a crash (SIGABRT) shows up.
"""
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LONG = "/tmp/" + "x" * 300   # over the 255-byte limit of one path component

# A module whose import would leave a marker: a record that names it must never import it.
EVIL_MODULE = """
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("code ran")

def build():
    pathlib.Path(__file__).with_name("CALLED").write_text("code ran")
"""


class Evil:
    """A pickle that runs a command when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from pipeline.cli import main
    from pipeline.devices.testing_models import make_conv_onnx

    root = tmp_path_factory.mktemp("bad")
    pruned = root / "pruned"
    assert main(["prune", "--model", "resnet20-tiny", "--in-channels", "1", "--ratio", "0.5",
                 "--out", str(pruned)]) == 0

    def variant(name, change):
        folder = root / name
        shutil.copytree(pruned, folder)
        change(folder)
        return folder

    def base_ref(ref):
        def change(folder):
            record = json.loads((folder / "model.json").read_text())
            record["base_ref"] = ref
            (folder / "model.json").write_text(json.dumps(record))
        return change

    def wrong_types(folder):
        record = json.loads((folder / "model.json").read_text())
        record["input_shape"] = "1,1,32,32"
        (folder / "model.json").write_text(json.dumps(record))

    def corrupt_weights(folder):
        data = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[:40])

    bad_manifest = variant("bad-manifest", lambda folder: (folder / "manifest.json").write_text(
        json.dumps({"data": {"name": "digits", "image_size": "big"}, "seed": 0})))
    latin1_manifest = variant("latin1-manifest", lambda folder: (folder / "manifest.json")
                              .write_bytes('{"data": "caf\xe9"}'.encode("latin-1")))
    list_manifest = variant("list-manifest", lambda folder: (folder / "manifest.json")
                            .write_text("[1, 2]"))
    (root / "evilmod.py").write_text(EVIL_MODULE)
    (root / "evil.pt").write_bytes(pickle.dumps(Evil(root / "PICKLE_RAN")))
    (root / "random.pt").write_bytes(os.urandom(512))
    (root / "latin1.toml").write_bytes("seed = 0 # caf\xe9\n".encode("latin-1"))
    (root / "latin1-profile.toml").write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    (root / "a-file").write_text("not a folder")
    onnx_file = make_conv_onnx(root / "m.onnx", widths=(4,), input_shape=(1, 1, 8, 8))
    return {
        "root": root, "pruned": pruned, "onnx": onnx_file,
        "abort": variant("abort", base_ref("os:abort")),
        "evil_ref": variant("evil-ref", base_ref("evilmod:build")),
        "wrong_types": variant("wrong-types", wrong_types),
        "corrupt_weights": variant("corrupt-weights", corrupt_weights),
        "bad_manifest": bad_manifest, "latin1_manifest": latin1_manifest,
        "list_manifest": list_manifest,
    }


def _cases(f):
    r = f["root"]
    prune = ["prune", "--model", "resnet20-tiny", "--in-channels", "1", "--ratio", "0.5"]
    return {
        # paths over 255 bytes, everywhere a path is taken
        "run --config long": (["run", "--config", LONG], "File name too long"),
        "run --weights long": (["run", "--weights", LONG + ".pt"], "File name too long"),
        "run --resume long": (["run", "--resume", LONG], "File name too long"),
        "run --out long": (["run", "--out", LONG], "File name too long"),
        "run data.path long": (["run", "data.name=mnist", f"data.path={LONG}"], "File name too long"),
        "profile long": (["profile", "--device", "host-ort", LONG + ".onnx"], "File name too long"),
        "profile --device long": (["profile", "--device", LONG + ".toml", str(f["onnx"])],
                                  "File name too long"),
        "export long": (["export", LONG], "File name too long"),
        "inspect long": (["inspect", LONG], "unknown model"),
        "finetune long": (["finetune", LONG], "File name too long"),
        "deploy long": (["deploy", LONG, "--device", "host-ort"], "File name too long"),
        "devices check long": (["devices", "check", LONG + ".toml"], "File name too long"),
        "prune --weights long": ([*prune, "--weights", LONG + ".pt", "--out", str(r / "o1")],
                                 "File name too long"),
        # files that carry code, or are not what they claim
        "model.json names os:abort": (["inspect", str(f["abort"])], "never imported"),
        "model.json names a module": (["inspect", str(f["evil_ref"])], "never imported"),
        "export of os:abort": (["export", str(f["abort"]), "--no-measure"], "never imported"),
        "finetune of a module": (["finetune", str(f["evil_ref"])], "never imported"),
        "model.json wrong types": (["inspect", str(f["wrong_types"])], "input_shape"),
        "corrupt safetensors": (["inspect", str(f["corrupt_weights"])], "safetensors"),
        "pickle with __reduce__": ([*prune, "--weights", str(r / "evil.pt"), "--out", str(r / "o2")],
                                   "not a plain state_dict"),
        "random bytes .pt": ([*prune, "--weights", str(r / "random.pt"), "--out", str(r / "o3")],
                             "not a plain state_dict"),
        "config not UTF-8": (["run", "--config", str(r / "latin1.toml")], "UTF-8"),
        "profile not UTF-8": (["profile", "--device", str(r / "latin1-profile.toml"),
                               str(f["onnx"])], "not valid TOML"),
        # silent acceptances
        "prune --in-channels 0": ([*prune[:-4], "--in-channels", "0", "--ratio", "0.5",
                                   "--out", str(r / "o4")], "--in-channels"),
        "onnx on a tflite profile": (["profile", "--device", "host-tflite", str(f["onnx"])],
                                     ".tflite files"),
        "prune --out under a file": ([*prune, "--out", str(r / "a-file" / "sub")], "under the file"),
        "export --opset 3": (["export", str(f["pruned"]), "--opset", "3"], "--opset 3"),
        "run opset 3": (["run", "export.opset=3"], "export.opset"),
        "export --max-int8-drop 5": (["export", str(f["pruned"]), "--max-int8-drop", "5"],
                                     "--max-int8-drop"),
        "run --resume of a file": (["run", "--resume", str(r / "a-file")], "is not a folder"),
        "run --weights a folder": (["run", "--weights", str(r)], "is a folder"),
        "manifest data of the wrong type": (["export", str(f["bad_manifest"]), "--no-measure"],
                                            "must be int"),
        "manifest not UTF-8": (["export", str(f["latin1_manifest"])], "not valid JSON"),
        "manifest a list": (["deploy", str(f["list_manifest"]), "--device", "host-ort"],
                            "not a bundle manifest"),
    }


CASE_NAMES = list(_cases({"root": Path("/"), "onnx": "", "abort": "", "evil_ref": "",
                          "wrong_types": "", "corrupt_weights": "", "pruned": "",
                          "bad_manifest": "", "latin1_manifest": "", "list_manifest": ""}))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_gets_one_line_and_exit_2(name, files):
    argv, expected = _cases(files)[name]
    env = {**os.environ, "EDGEPRUNE_NO_PROGRESS": "1"}
    # The files' folder is the working directory, so `evilmod` would be importable from it.
    result = subprocess.run([sys.executable, "-m", "pipeline", *argv], cwd=files["root"], env=env,
                            capture_output=True, text=True, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-1500:])
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr[-1500:]
    assert expected in lines[0], lines[0]
    assert "weights_only=False" not in result.stderr
    for marker in ("IMPORTED", "CALLED", "PICKLE_RAN"):
        assert not (files["root"] / marker).exists(), f"{marker}: code from a file ran"


def test_debug_still_shows_the_traceback(files):
    result = subprocess.run([sys.executable, "-m", "pipeline", "--debug", "run", "--config", LONG],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" in result.stderr
