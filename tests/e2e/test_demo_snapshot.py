"""`osconsole --demo snapshot` and `osconsole snapshot --demo`: one poll of the demo
cloud, with no clouds.yaml or OS_* of the operator's involved."""

from __future__ import annotations

import functools
import json

import pytest

from osconsole import cli
from osconsole.sim import background

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_snapshot_of_the_demo_cloud(
    where: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        background, "DemoCloud", functools.partial(background.DemoCloud, size="tiny")
    )
    for name in ("OS_AUTH_URL", "OS_CLOUD", "OS_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OS_PASSWORD", "not used")  # an OS_* environment must not be read
    options = ["snapshot", "--kinds", "agents", "-f", "json"]
    argv = ["--demo", *options] if where == "before" else [*options, "--demo"]
    code = cli.main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    document = json.loads(out.out)
    regions = {s["region"] for s in document["snapshots"]}
    assert regions == {"RegionOne", "RegionTwo", "RegionThree"}
    assert "auth_url" not in out.err
