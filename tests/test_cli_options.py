"""Options given before or after the command's name mean the same."""

from __future__ import annotations

import pytest

from osconsole.cli import build_parser


@pytest.mark.parametrize(
    "argv",
    [
        ["--demo", "snapshot"],
        ["snapshot", "--demo"],
        ["--demo", "wall"],
        ["wall", "--demo"],
    ],
)
def test_demo_before_or_after_the_command(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).demo is True


@pytest.mark.parametrize("command", ["snapshot", "wall"])
def test_cloud_options_before_the_command_are_kept(command: str) -> None:
    args = build_parser().parse_args(["--region", "X", "--os-cloud", "c", command])
    assert (args.region, args.os_cloud, args.demo) == ("X", "c", False)
    after = build_parser().parse_args([command, "--region", "Y", "--config", "p"])
    assert (after.region, after.config) == ("Y", "p")
