"""README describes what a run really produces: every winner name, the board's prerequisites."""
import re
from pathlib import Path

from pipeline.board.rootfs import APT_PACKAGES
from pipeline.finish import WINNER_NAMES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_winner_name_a_run_can_produce_is_described():
    section = README[README.index("## What a run leaves"):README.index("## Other commands")]
    for name in WINNER_NAMES:
        assert re.search(rf"\*\*{re.escape(name)}\*\*", section), name


def test_the_table_says_which_file_its_p50_is_on_a_tflite_device():
    section = README[README.index("## What a run leaves"):README.index("## Other commands")]
    assert "`model.tflite` on" in section and "host-tflite" in section


def test_board_prerequisites_stand_in_one_line_before_its_command():
    lines = README.splitlines()
    command = next(i for i, line in enumerate(lines)
                   if line.startswith("`edgeprune board emulate`"))
    before = lines[command - 1]
    assert "root" in before
    assert all(package in before for package in APT_PACKAGES.split())
