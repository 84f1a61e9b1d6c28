"""Incidents of the control plane itself: boots slowing down, and the services
underneath (RabbitMQ, Galera, memcached; their state in osconsole.sim.backing).

Kept apart from scenarios.py, which registers them; they use its Incident and
helpers, so scenarios.py imports this module only inside its factories.
"""

from __future__ import annotations

from osconsole.sim.scenarios import Incident, Plan, Step, _boot, _destroy, _live_hypervisor
from osconsole.sim.world import Port, Region, Server, World


def slow_boot_durations(
    normal: int = 20, ramp: int = 10, slow: int = 5, fast_s: float = 30.0, slow_s: float = 240.0
) -> list[float]:
    """Boot times in order: `normal` at fast_s, a ramp up to slow_s, `slow` at slow_s."""
    ramped = [fast_s + (slow_s - fast_s) * (i + 1) / ramp for i in range(ramp)]
    return [fast_s] * normal + ramped + [slow_s] * slow


class SlowBoots(Incident):
    """A project boots a server every `every` seconds; boots slow down from 30 s to 4
    minutes (BUILD until `created + duration`, then ACTIVE with that `launched_at`).
    Each server is deleted `delete_after` seconds after it booted, the delete taking
    `delete_s` (task_state `deleting`, then soft-deleted with `terminated_at`)."""

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "slow-boots",
        *,
        every: float = 12.0,
        durations: list[float] | None = None,
        delete_after: float = 30.0,
        delete_s: float = 5.0,
    ) -> None:
        super().__init__(plan, region, tag)
        self.every = every
        self.durations = durations if durations is not None else slow_boot_durations()
        self.delete_after = delete_after
        self.delete_s = delete_s
        self.template_id = ""
        self.port_id = ""
        self.booted: dict[int, tuple[str, str]] = {}  # index -> (server id, port id)

    def last_offset(self) -> float:
        last = len(self.durations) - 1
        return last * self.every + self.durations[last] + self.delete_after + self.delete_s

    def steps(self, at: float) -> list[Step]:
        steps: list[Step] = []
        for i, duration in enumerate(self.durations):
            start = at + i * self.every
            steps += [
                self.step(start, self._boot(i)),
                self.step(start + duration, self._launched(i)),
                self.step(start + duration + self.delete_after, self._delete_asked(i)),
                self.step(start + duration + self.delete_after + self.delete_s, self._deleted(i)),
            ]
        return steps

    def _template(self, region: Region) -> tuple[Server, Port] | None:
        template, port = region.servers.get(self.template_id), region.ports.get(self.port_id)
        if template is not None and port is not None:
            return template, port
        ports = {p.device_id: p for p in region.ports if p.device_owner == "compute:nova"}
        for server in region.servers.ordered():
            if server.status == "ACTIVE" and server.id in ports and not self.busy(server.id):
                self.template_id, self.port_id = server.id, ports[server.id].id
                self.claim(server.project_id)
                return server, ports[server.id]
        return None

    def _boot(self, i: int):  # type: ignore[no-untyped-def]
        def boot(world: World, region: Region, now: float) -> list[str]:
            found = self._template(region)
            hv = _live_hypervisor(region, self.rng, now)
            if found is None or hv is None:
                return ["no server to copy or no live hypervisor: no boot"]
            template, like = found
            name = f"{template.name.split('-')[0]}-boot-{i:04d}"
            server, port = _boot(region, self.rng, now, template, like, template.flavor, name, hv)
            server.status, server.vm_state, server.task_state = "BUILD", "building", "spawning"
            server.power_state, server.launched_at = 0, None
            self.booted[i] = (server.id, port.id)
            return [f"server {server.name} ({server.id}) is building (boot {i + 1})"]

        return boot

    def _server(self, region: Region, i: int) -> Server | None:
        server_id = self.booted.get(i, ("", ""))[0]
        server = region.servers.get(server_id)
        return None if server is None or server.deleted else server

    def _launched(self, i: int):  # type: ignore[no-untyped-def]
        def launched(world: World, region: Region, now: float) -> list[str]:
            server = self._server(region, i)
            if server is None:
                return []
            server.status, server.vm_state, server.task_state = "ACTIVE", "active", None
            server.power_state, server.launched_at, server.updated_at = 1, now, now
            took = now - server.created_at
            return [f"server {server.name} ({server.id}) is active after {took:.0f} s"]

        return launched

    def _delete_asked(self, i: int):  # type: ignore[no-untyped-def]
        def asked(world: World, region: Region, now: float) -> list[str]:
            server = self._server(region, i)
            if server is None:
                return []
            server.task_state, server.updated_at = "deleting", now
            return [f"server {server.name} ({server.id}) is deleting"]

        return asked

    def _deleted(self, i: int):  # type: ignore[no-untyped-def]
        def deleted(world: World, region: Region, now: float) -> list[str]:
            server = self._server(region, i)
            if server is None:
                return []
            _destroy(region, server.id, self.booted[i][1], now)
            if i == len(self.durations) - 1:
                self.release()
            return [f"server {server.name} ({server.id}) deleted"]

        return deleted


# -- the services beneath (sim/backing.py) ------------------------------------------------


class RabbitPartition(Incident):
    """RabbitMQ's second node loses the other two (a net split): each side reports the
    other in `partitions`; healed `heal_after` seconds later."""

    def __init__(self, plan: Plan, region: str, tag: str = "rabbitmq-partition", *,
                 heal_after: float = 180.0) -> None:  # fmt: skip
        super().__init__(plan, region, tag)
        self.heal_after = heal_after

    def steps(self, at: float) -> list[Step]:
        return [self.step(at, self.split), self.step(at + self.heal_after, self.heal)]

    def split(self, world: World, region: Region, now: float) -> list[str]:
        nodes = region.backing.rabbit.nodes
        alone, others = nodes[1], [nodes[0], nodes[2]]
        alone.partitions = [n.name for n in others]
        for node in others:
            node.partitions = [alone.name]
        return [f"RabbitMQ partitioned: {alone.name} lost {', '.join(alone.partitions)}"]

    def heal(self, world: World, region: Region, now: float) -> list[str]:
        for node in region.backing.rabbit.nodes:
            node.partitions = []
        return ["RabbitMQ partition healed"]


class GaleraNodeLeaves(Incident):
    """One of three Galera nodes leaves the cluster (size 3 -> 2, still Primary);
    it rejoins `rejoin_after` seconds later."""

    def __init__(self, plan: Plan, region: str, tag: str = "galera-node-leaves", *,
                 rejoin_after: float = 150.0) -> None:  # fmt: skip
        super().__init__(plan, region, tag)
        self.rejoin_after = rejoin_after

    def steps(self, at: float) -> list[Step]:
        return [self.step(at, self.leave), self.step(at + self.rejoin_after, self.rejoin)]

    def leave(self, world: World, region: Region, now: float) -> list[str]:
        galera = region.backing.galera
        galera.members = 2
        return ["a Galera node left the cluster: 2 of 3 nodes"]

    def rejoin(self, world: World, region: Region, now: float) -> list[str]:
        region.backing.galera.members = 3
        return ["the Galera node rejoined: 3 of 3 nodes"]


class QueueWithoutConsumers(Incident):
    """The notifications queue loses its consumer (ceilometer stopped): it grows by
    `per_s` messages a second; the consumer comes back after `back_after` and drains it."""

    QUEUE = "notifications.info"

    def __init__(self, plan: Plan, region: str, tag: str = "queue-without-consumers", *,
                 per_s: float = 3.0, back_after: float = 240.0) -> None:  # fmt: skip
        super().__init__(plan, region, tag)
        self.per_s = per_s
        self.back_after = back_after

    def steps(self, at: float) -> list[Step]:
        return [self.step(at, self.stop), self.step(at + self.back_after, self.back)]

    def stop(self, world: World, region: Region, now: float) -> list[str]:
        queue = region.backing.rabbit.queues[self.QUEUE]
        queue.consumers, queue.growth_per_s, queue.growing_since = 0, self.per_s, now
        queue.messages = max(queue.messages, 1)
        return [f"queue {self.QUEUE} has no consumer: growing {self.per_s:g} messages/s"]

    def back(self, world: World, region: Region, now: float) -> list[str]:
        queue = region.backing.rabbit.queues[self.QUEUE]
        queue.consumers, queue.growth_per_s, queue.growing_since, queue.messages = 1, 0.0, None, 0
        return [f"queue {self.QUEUE} has a consumer again (drained)"]


class MemcachedEvicting(Incident):
    """memcached runs out of memory: `per_s` evictions a second for `for_s` seconds."""

    def __init__(self, plan: Plan, region: str, tag: str = "memcached-evicting", *,
                 per_s: float = 4.0, for_s: float = 180.0) -> None:  # fmt: skip
        super().__init__(plan, region, tag)
        self.per_s = per_s
        self.for_s = for_s

    def steps(self, at: float) -> list[Step]:
        return [self.step(at, self.start), self.step(at + self.for_s, self.stop)]

    def start(self, world: World, region: Region, now: float) -> list[str]:
        cache = region.backing.memcached
        cache.stop_evicting(now)
        cache.eviction_rate, cache.evicting_since = self.per_s, now
        return [f"memcached is evicting {self.per_s:g} items/s (out of memory)"]

    def stop(self, world: World, region: Region, now: float) -> list[str]:
        region.backing.memcached.stop_evicting(now)
        return ["memcached stopped evicting"]
