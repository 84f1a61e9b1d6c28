"""The wall in triage: acknowledgements made at the console are counted apart."""

from __future__ import annotations

from osconsole.acks import AckFile, acks_path
from osconsole.health.findings import Severity
from osconsole.model import RegionRef
from osconsole.tui.wall import header_text
from osconsole.widgets.tiles import GREEN, NO_DATA, DomainHealth, TileData
from tests.tui.fixtures import wait_for
from tests.tui.test_wall import fixed_wall, show_three_looks


async def test_the_wall_counts_acknowledged_incidents_apart_and_follows_the_file() -> None:
    app = fixed_wall()
    async with app.run_test(size=(200, 50)) as pilot:
        await show_three_looks(pilot, app)
        critical = [i for i in app.incidents if i.severity is Severity.CRITICAL]
        assert len(critical) >= 2
        heading = app.wall.findings.plain.splitlines()[0]
        assert f"CRITICAL INCIDENTS  {len(critical)} " in heading
        assert "acknowledged" not in heading
        # The console acknowledges an incident of one finding (it writes the file; the
        # wall only reads it).
        alone = next(i for i in critical if not i.symptoms)
        ack = app.state.tracker.acknowledge(alone.cause.key, by="alice", at=1.0)
        assert ack is not None
        app.state.tracker.unacknowledge(alone.cause.key)  # the wall itself changes nothing
        AckFile(acks_path()).save([ack])
        await show_three_looks(pilot, app)
        await wait_for(pilot, lambda: "1 acknowledged" in app.wall.findings.plain)
        heading = app.wall.findings.plain.splitlines()[0]
        assert f"CRITICAL INCIDENTS  {len(critical) - 1} " in heading
        assert alone.title not in app.wall.findings.plain


def test_a_region_with_no_data_yet_is_counted_as_no_data_not_green() -> None:
    ref = RegionRef("c", "RegionOne")
    blank = tuple(DomainHealth(title) for title in ("Hypervisors", "Routers"))
    tile = TileData(ref, "RegionOne", "ok", None, "", blank)
    assert tile.word == NO_DATA
    header = header_text(0.0, [tile, tile, tile], [], connecting=False).plain
    assert "3 regions: 3 NO DATA" in header and "GREEN" not in header
    fresh = TileData(ref, "RegionOne", "ok", 1.0, "", (DomainHealth("Routers", known=True),))
    assert fresh.word == GREEN
    assert "1 GREEN · 1 NO DATA" in header_text(0.0, [fresh, tile], [], connecting=False).plain
