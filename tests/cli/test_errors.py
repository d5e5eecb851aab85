"""cli.main is the one place exceptions become output: one line, exit 2 for bad input."""
import errno

import pytest

from pipeline import cli
from pipeline.errors import UserError


def test_user_errors_and_os_refusals_are_one_line_exit_2():
    code, line = cli.one_line_error(UserError("first\nsecond"))
    assert code == 2 and "\n" not in line and "first second" in line
    name = "/tmp/" + "y" * 400
    code, line = cli.one_line_error(OSError(errno.ENAMETOOLONG, "File name too long", name))
    assert code == 2 and "File name too long" in line and len(line) < 200
    code, line = cli.one_line_error(ConnectionResetError(errno.ECONNRESET, "Connection reset"))
    assert code == 2 and "check the path" not in line


def test_a_bug_is_one_line_exit_1_and_debug_shows_it(monkeypatch, capsys):
    def broken(args):
        raise KeyError("oops")

    real = cli.build_parser

    def parser_with_broken_command():
        parser = real()
        parser.set_defaults(func=broken)
        return parser

    monkeypatch.setattr(cli, "build_parser", parser_with_broken_command)
    assert cli.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "internal error: KeyError" in err and "--debug" in err
    with pytest.raises(KeyError):
        cli.main(["--debug"])
