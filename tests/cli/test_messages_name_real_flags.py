"""Messages name only flags and config keys that exist (one once told `run` users to pass
--input-shape, a flag `run` does not have)."""
import argparse
import ast
import dataclasses
import re
from pathlib import Path

from pipeline.cli import build_parser
from pipeline.config import Config

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"
# Flags of other programs that messages quote: the board runner, predict.py, systemctl.
OTHER_PROGRAMS = {"--cores", "--input", "--now"}
FILE_NAMES = {"model.onnx", "model.tflite", "model.json", "model.safetensors", "data.json"}
SKIP = {"runner.py", "predict_template.py"}   # standalone scripts with their own flags


def _strings():
    for path in PACKAGE.rglob("*.py"):
        if path.name in SKIP:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield path.relative_to(PACKAGE.parent), node.value


def _flags():
    flags = set()

    def walk(parser):
        for action in parser._actions:
            flags.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    return flags


def _keys(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _keys(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_every_flag_named_in_a_message_exists():
    known = _flags() | OTHER_PROGRAMS
    unknown = {(str(path), flag) for path, text in _strings()
               for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text) if flag not in known}
    assert not unknown


def test_every_config_key_named_in_a_message_exists():
    known = set(_keys(Config())) | FILE_NAMES
    pattern = r"(?<![\w.])((?:data|model|train|search|recover|export)\.[a-z_]+)(?=[ =,;)'\"]|$)"
    unknown = {(str(path), key) for path, text in _strings()
               for key in re.findall(pattern, text) if key not in known}
    assert not unknown
