"""`--help-config`: every key with its type, allowed values and a line of meaning; no stale keys."""
import dataclasses

from pipeline.cli import main
from pipeline.config import Config
from pipeline.config_help import HELP


def _keys(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _keys(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_every_key_has_a_type_and_a_meaning(capsys):
    assert main(["run", "--help-config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("model.input_shape=1,1,28,28" in line for line in lines)   # the list syntax
    for key in _keys(Config()):
        (i,) = [n for n, line in enumerate(lines) if line.strip().startswith(f"{key} = ")]
        assert "(" in lines[i] and lines[i].rstrip().endswith(")"), lines[i]       # its type
        assert lines[i + 1].startswith("      ") and lines[i + 1].strip(), key     # its meaning
    latency = next(line for line in lines if line.strip().startswith("search.latency_source"))
    assert "device | predicted | flops | params" in latency


def test_the_help_names_only_keys_that_exist():
    assert set(HELP) <= set(_keys(Config()))
