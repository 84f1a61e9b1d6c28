"""A mixed cloud for the OVN tests: RegionOne on ML2/OVN (3 gateway chassis, 8 routers),
RegionTwo on ML2/OVS, side by side."""

from __future__ import annotations

from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.world import Agent, Port, Region, Router, World

OVN_REGION = "RegionOne"
OVS_REGION = "RegionTwo"


def mixed_world(clock: SimClock) -> World:
    return build_world(size="tiny", regions=2, seed=7, clock=clock, backends="ovn,ovs")


def gateway_port(region: Region, router: Router) -> Port:
    port = region.gateway_port(router)
    assert port is not None
    return port


def chassis_by_host(region: Region) -> dict[str, Agent]:
    return {a.host: a for a in region.gateway_agents()}


def holders(region: Region) -> dict[str, list[Router]]:
    """Chassis host -> the routers whose gateway is bound there."""
    held: dict[str, list[Router]] = {}
    for router in region.routers:
        port = gateway_port(region, router)
        if port.host:
            held.setdefault(port.host, []).append(router)
    return held


def advance(world: World, seconds: float) -> float:
    """Step the clock and tick the world, as the control API does."""
    world.clock.step(seconds)
    return world.tick()
