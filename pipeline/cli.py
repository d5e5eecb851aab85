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
    except KeyboardInterrupt:
        print("edgeprune: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # The one place where every command's failures become one line (--debug: traceback).
        if args.debug:
            raise
        code, line = one_line_error(exc)
        print(f"edgeprune: {line}", file=sys.stderr)
        return code


def one_line_error(exc: BaseException) -> tuple[int, str]:
    """(exit code, message): a UserError or an OS refusal of a user's path is bad input (2);
    anything else is a bug, reported in one line with a pointer to --debug (1)."""
    from pipeline.paths import show_path

    if isinstance(exc, UserError):
        return 2, "error: " + " ".join(str(exc).split("\n"))
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        if exc.filename:
            return 2, f"error: {reason}: '{show_path(exc.filename)}'; check the path"
        return 2, f"error: {reason}"
    text = str(exc).strip().splitlines()
    return 1, (f"internal error: {type(exc).__name__}: {text[0] if text else ''} "
               "(run again with --debug for the traceback, and report it)")


if __name__ == "__main__":
    sys.exit(main())
