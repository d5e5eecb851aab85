"""The `edgeprune` command line: parse, dispatch to a command module, print errors.

Each sub-command lives in `pipeline/commands/<name>.py` with `register(subparsers)`; those
modules import nothing heavy at import time, so `edgeprune --help` stays instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from pipeline.errors import UserError

# Order is the order shown by --help.
COMMANDS = [
    "run", "prune", "inspect", "sensitivity", "finetune", "export", "deploy",
    "devices", "profile", "cache", "board", "criteria", "predictor",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgeprune",
        description="Prune a trained CNN by latency measured on the target device, "
        "recover accuracy by distillation, export verified ONNX and TFLite bundles.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"pipeline.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pipeline.commands.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, before or after the sub-command.
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.debug = debug
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"edgeprune: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edgeprune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
