from osconsole.config import Settings
from osconsole.poller import Poller


async def test_dump(connection, world):
    poller = Poller(connection.regions, Settings(), unpaced_sweeps=True)
    snaps = await poller.poll_once()
    for s in snaps:
        print(s.ref, s.kind, len(s.items), s.fetched_at, s.server_time, s.stale, s.complete, s.notes, dict(s.extra) if s.kind != "routers" else {k: v for k, v in s.extra.items() if k != "l3_agents"})
        for item in list(s.items.values())[:3]:
            print("   ", item)
    for r in connection.regions:
        print(r.ref, {k: (v.calls, v.errors, v.percentile(0.5)) for k, v in r.client.stats.items()})
