"""The command line's own checks: bad numbers and bad config files get a clear message
naming the flag or the file and key, exit 2, and never a traceback or a spinning loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from osconsole.cli import EXIT_USAGE, main


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("-1", "greater than 0"),  # spun a loop at 98% CPU, printing nothing
        ("0", "greater than 0"),
        ("nan", "finite number"),  # ended in a traceback
        ("inf", "finite number"),
        ("5000", "less than or equal to 1000"),
        ("lots", "valid number"),
    ],
)
def test_a_bad_sweep_budget_is_refused_naming_the_flag(
    value: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(["snapshot", "--sweep-budget", value], capsys)
    assert f"argument --sweep-budget: '{value}': " in err
    assert why in err


@pytest.mark.parametrize(
    "argv",
    [
        ["wall", "--rotate", "nan"],
        ["wall", "--rotate", "-5"],
        ["wall", "--port", "70000"],
        ["sim", "--port", "-1"],
        ["sim", "--regions", "0"],
        ["sim", "--regions", "nan"],
    ],
)
def test_other_numbers_on_the_command_line_are_checked(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(argv, capsys)
    assert f"argument {argv[1]}: '{argv[2]}': " in err


def test_every_problem_of_a_config_file_is_printed_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sweep_budget: .nan\nintervals:\n  routers: -1\nconcurrency: 0\n")
    assert main(["snapshot", "--config", str(config)]) == EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"osconsole: {config}: intervals.routers: Input should be greater than 0",
        f"osconsole: {config}: concurrency: Input should be greater than or equal to 1",
        f"osconsole: {config}: sweep_budget: Input should be a finite number",
    ]
