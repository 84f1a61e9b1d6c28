"""Neutron v2.0 as the simulator serves it: agents, L3 scheduling, routers, ports,
security group rules, floating IPs and quota details.

Clients poll these lists at scale, so every list goes through one helper that does
what Neutron's API layer does: `fields`, equality filters (repeated = OR; unknown or
non-filterable attributes answer 400, as with `filter-validation`), `limit`/`marker`
paging (by creation order) with `<collection>_links`, `sort_key`/`sort_dir`,
`page_reverse`, and `changed_since` on resources with standard attributes. Only the
returned page is rendered.

Policy follows Neutron's defaults, including its quirks: a non-admin listing agents
gets an empty list and a 404 for one agent (the policy hook hides what it may not
see), but 403 from the L3 scheduler calls (they enforce policy up front);
project-owned objects are scoped to the caller's project, and admin-only fields
(`ha`, `distributed`, `binding:host_id|profile|vif_type|vif_details`) are stripped.

Bodies carry every key of the API reference samples, including attributes of
extensions the simulator does not implement (qos, dns, pvlan, ...), with neutral
values (null, [], ""), so that they are field for field the samples' shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from osconsole.sim.clock import iso, neutron_ts, parse_iso
from osconsole.sim.common import ApiError, Ctx, authenticate, ctx, json_response
from osconsole.sim.world import (
    HA_INTERFACE_OWNER,
    HIGHEST_CHASSIS_PRIORITY,
    L3_AGENT,
    OVS_AGENT,
    Agent,
    Collection,
    FloatingIP,
    Port,
    Region,
    Router,
    SecurityGroupRule,
    Token,
    new_uuid,
)

Match = Callable[[Any], bool]
FilterBuilder = Callable[[list[str]], Match]

# Query parameters Neutron's API layer consumes itself; everything else is a filter.
CONTROL_PARAMS = frozenset({"fields", "limit", "marker", "page_reverse", "sort_key", "sort_dir"})
CHANGED_SINCE = "changed_since"
NOT_FOUND = "The resource could not be found."
DEFAULT_QUOTAS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
    "subnetpool": -1,
}
PORT_ADMIN_FIELDS = frozenset(
    {"binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details"}
)
ROUTER_ADMIN_FIELDS = frozenset({"ha", "distributed"})

# Each extension as it describes itself: `alias | updated`, then its name and its
# description on lines indented by 4 (a line indented by 8 continues the one before).
_EXTENSION_TABLE = """
agent | 2013-02-03T10:00:00-00:00
    agent
    The agent management extension.
agent_resources_synced | 2018-08-09T10:00:00-00:00
    Agent's Resource View Synced to Placement
    Stores success/failure of last sync to Placement
allowed-address-pairs | 2013-07-23T10:00:00-00:00
    Allowed Address Pairs
    Provides allowed address pairs
availability_zone | 2015-01-01T10:00:00-00:00
    Availability Zone
    The availability zone extension.
binding | 2014-02-03T10:00:00-00:00
    Port Binding
    Expose port bindings of a virtual port to external application
data-plane-status | 2017-04-28T00:00:00-00:00
    Port data plane status extension
    Enable or disable data plane status reporting for ports.
dns-integration | 2015-08-15T18:00:00-00:00
    DNS Integration
    Provides integration with DNS.
dns-domain-ports | 2017-06-25T18:00:00-00:00
    dns_domain for ports
    Allows the DNS domain to be specified for a network port.
dvr | 2014-06-1T10:00:00-00:00
    Distributed Virtual Router
    Enables configuration of Distributed Virtual Routers.
empty-string-filtering | 2018-05-01T10:00:00-00:00
    Empty String Filtering Extension
    Allow filtering by attributes with empty string value
external-net | 2013-01-14T10:00:00-00:00
    Neutron external network
    Adds external network attribute to network resource.
ext-gw-mode | 2013-03-28T10:00:00-00:00
    Neutron L3 Configurable external gateway mode
    Extension of the router abstraction for specifying whether SNAT should occur on the external
        gateway
extra_dhcp_opt | 2013-03-17T12:00:00-00:00
    Neutron Extra DHCP options
    Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be
        specified (e.g. tftp-server, server-ip-address, bootfile-name)
extraroute | 2013-02-01T10:00:00-00:00
    Neutron Extra Route
    Extra routes configuration for L3 router
filter-validation | 2018-03-21T10:00:00-00:00
    Filter parameters validation
    Provides validation on filter parameters.
fip-port-details | 2018-04-09T10:00:00-00:00
    Floating IP Port Details Extension
    Add port_details attribute to Floating IP resource
ip-substring-filtering | 2017-11-28T09:00:00-00:00
    IP address substring filtering
    Provides IP address substring filtering when listing ports
ip_allocation | 2016-06-10T23:00:00-00:00
    IP Allocation
    IP allocation extension.
l3-ha | 2014-04-26T00:00:00-00:00
    HA Router extension
    Adds HA capability to routers.
l3_agent_scheduler | 2013-02-07T10:00:00-00:00
    L3 Agent Scheduler
    Schedule routers among l3 agents
pagination | 2016-06-12T00:00:00-00:00
    Pagination support
    Extension that indicates that pagination is enabled.
port-security | 2012-07-23T10:00:00-00:00
    Port Security
    Provides port security
project-id | 2016-09-09T09:09:09-09:09
    project_id field enabled
    Extension that indicates that project_id field is enabled.
quota_details | 2017-02-10T10:00:00-00:00
    Quota details management support
    Expose functions for quotas usage statistics per project
quotas | 2012-07-29T10:00:00-00:00
    Quota management support
    Expose functions for quotas management per project
router | 2012-07-20T10:00:00-00:00
    Neutron L3 Router
    Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external
        networks via a NAT gateway.
router_availability_zone | 2015-01-01T10:00:00-00:00
    Router Availability Zone
    Availability zone support for router.
security-group | 2012-10-05T10:00:00-00:00
    security-group
    The security groups extension.
sorting | 2016-06-12T00:00:00-00:00
    Sorting support
    Extension that indicates that sorting is enabled.
standard-attr-description | 2016-02-10T10:00:00-00:00
    standard-attr-description
    Extension to add descriptions to standard attributes
standard-attr-revisions | 2016-04-11T10:00:00-00:00
    Resource revision numbers
    This extension will display the revision number of neutron resources.
standard-attr-tag | 2017-01-01T00:00:00-00:00
    Tag support for resources with standard attribute: port, subnet, subnetpool, network,
        security_group, router, floatingip, policy, trunk, network_segment_range
    Enables to set tag on resources with standard attribute.
standard-attr-timestamp | 2016-09-12T10:00:00-00:00
    Resource timestamps
    Adds created_at and updated_at fields to all Neutron resources that have Neutron standard
        attributes.
uplink-status-propagation | 2018-06-11T10:00:00-00:00
    Uplink status propagation extension
    Provides ability to propagate uplink status of physical ports to virtual ports.
"""


def _parse_extensions(table: str) -> list[tuple[str, str, str, str]]:
    """(alias, name, description, updated) from `_EXTENSION_TABLE`."""
    entries: list[list[str]] = []
    for line in table.strip().splitlines():
        if line.startswith("        "):
            entries[-1][-1] += " " + line.strip()
        elif line.startswith("    "):
            entries[-1].append(line.strip())
        else:
            entries.append([part.strip() for part in line.split(" | ")])
    return [(alias, name, description, updated) for alias, updated, name, description in entries]


EXTENSIONS = _parse_extensions(_EXTENSION_TABLE)
# ML2/OVN's L3 plugin has no keepalived HA and no DVR: those extensions are not loaded
# (neither are the router attributes they add); the L3 agent scheduler's
# `routers/{id}/l3-agents` still answers, with the router's gateway chassis.
NOT_ON_OVN = frozenset({"l3-ha", "dvr"})
OVN_ROUTER_ABSENT = ("ha", "distributed")


def region_extensions(region: Region) -> list[tuple[str, str, str, str]]:
    if region.backend == "ovn":
        return [e for e in EXTENSIONS if e[0] not in NOT_ON_OVN]
    return EXTENSIONS


CORE_RESOURCES = [
    ("network", "networks"),
    ("subnet", "subnets"),
    ("subnetpool", "subnetpools"),
    ("port", "ports"),
]


# -- small helpers -----------------------------------------------------------


def _ts(value: float) -> str:
    """Standard-attribute timestamps: whole seconds, `Z` (TIME_FORMAT_WHOLE_SECONDS + Z)."""
    return iso(value, zulu=True) or ""


def _region(c: Ctx) -> Region:
    assert c.region is not None  # the middleware answers unknown regions itself
    return c.region


def _to_bool(value: Any) -> bool:
    """Neutron's convert_to_boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "t", "yes", "y", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "f", "no", "n", "off"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ApiError(400, f"'{value}' cannot be converted to boolean")


def _to_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"'{value}' is not an integer") from None


def _forbidden(action: str) -> ApiError:
    return ApiError(403, f"rule:{action} is disallowed by policy")


def _owned_by(token: Token) -> Match | None:
    """Non-admins see only their project's objects (None: no restriction)."""
    if token.is_admin:
        return None
    project_id = token.project_id
    return lambda obj: obj.project_id == project_id


# -- the common list behaviour -------------------------------------------------


@dataclass(frozen=True)
class Attr:
    """A filterable (and sortable) attribute: how to read it and parse query values."""

    get: Callable[[Any], Any]
    parse: Callable[[str], Any] = str


@dataclass(frozen=True)
class ListSpec:
    """What the list helper needs to know about one collection."""

    collection: str  # JSON key, e.g. "security_group_rules"
    not_found: str  # message for an unknown marker, `{}` is the id
    attrs: Mapping[str, Attr]
    special: Mapping[str, FilterBuilder] = field(default_factory=dict)
    timestamps: bool = True  # standard-attr-timestamp applies: changed_since works
    admin_fields: frozenset[str] = frozenset()


@dataclass
class ListQuery:
    fields: list[str]
    limit: int | None
    marker: str | None
    reverse: bool
    sorts: list[tuple[str, bool]]
    predicates: list[Match]


def _equals(attr: Attr) -> FilterBuilder:
    def build(values: list[str]) -> Match:
        wanted = {attr.parse(v) for v in values}
        return lambda obj: attr.get(obj) in wanted

    return build


def _changed_since(values: list[str]) -> Match:
    try:
        since = parse_iso(values[0])
    except ValueError:
        raise ApiError(
            400,
            "Invalid input for operation: The input changed_since must be in the "
            "following format: YYYY-MM-DDTHH:MM:SSZ.",
        ) from None
    # The database keeps whole seconds, so compare what a client could have seen.
    return lambda obj: int(obj.updated_at) >= since


def _limit(request: Request) -> int | None:
    raw = request.query_params.get("limit", "0")
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ApiError(400, f"Limit must be an integer 0 or greater and not '{raw}'")
    return value or None


def _sorts(request: Request, spec: ListSpec) -> list[tuple[str, bool]]:
    keys = [v for v in request.query_params.getlist("sort_key") if v]
    dirs = [v for v in request.query_params.getlist("sort_dir") if v]
    if len(keys) != len(dirs):
        raise ApiError(400, "The number of sort_keys and sort_dirs must be same")
    absent = [k for k in keys if k not in spec.attrs]
    if absent:
        raise ApiError(400, f"{absent} is invalid attribute for sort_keys")
    bad = [d for d in dirs if d not in ("asc", "desc")]
    if bad:
        raise ApiError(
            400, f"{bad} is invalid value for sort_dirs, valid value is 'asc' and 'desc'"
        )
    return [(k, d == "asc") for k, d in zip(keys, dirs, strict=True)]


def parse_list_query(request: Request, spec: ListSpec) -> ListQuery:
    """Fields, paging, sorting and filters of a list request, validated like Neutron."""
    grouped: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        grouped.setdefault(key, []).append(value)
    predicates: list[Match] = []
    invalid: list[str] = []
    for key, values in grouped.items():
        if key in CONTROL_PARAMS:
            continue
        if key == CHANGED_SINCE and spec.timestamps:
            predicates.append(_changed_since(values))
        elif key in spec.special:
            predicates.append(spec.special[key](values))
        elif key in spec.attrs:
            predicates.append(_equals(spec.attrs[key])(values))
        else:
            invalid.append(key)
    if invalid:
        raise ApiError(400, f"{invalid} is invalid attribute for filtering")
    limit = _limit(request)
    return ListQuery(
        fields=[f for f in request.query_params.getlist("fields") if f],
        limit=limit,
        marker=(request.query_params.get("marker") or None) if limit else None,
        reverse=request.query_params.get("page_reverse", "False").lower() == "true",
        sorts=_sorts(request, spec),
        predicates=predicates,
    )


def _sort_value(value: Any) -> tuple[bool, Any]:
    # NULLs first in ascending order, as MySQL sorts them.
    return (value is not None, value if value is not None else 0)


def _sorted(objects: list[Any], spec: ListSpec, sorts: list[tuple[str, bool]]) -> list[Any]:
    keys = list(sorts)
    if "id" not in dict(keys):
        keys.append(("id", True))  # Neutron always ends with the primary key
    for name, ascending in reversed(keys):
        getter = spec.attrs[name].get
        objects.sort(key=lambda o, g=getter: _sort_value(g(o)), reverse=not ascending)
    return objects


def _select(
    q: ListQuery, spec: ListSpec, objects: Collection[Any], visible: Match | None
) -> list[Any]:
    """The page of `objects` (a Collection) the query asks for."""
    predicates = q.predicates + ([visible] if visible else [])

    def match(obj: Any) -> bool:
        return all(p(obj) for p in predicates)

    marker_obj = objects.get(q.marker) if q.marker else None
    if q.marker and (marker_obj is None or (visible and not visible(marker_obj))):
        raise ApiError(404, spec.not_found.format(q.marker))
    if q.sorts:
        return _select_sorted(q, spec, [o for o in objects if match(o)], marker_obj)
    if q.reverse and q.limit:
        return _select_reverse(q, objects, match)
    page, _ = objects.page(limit=q.limit, marker=q.marker, match=match)
    return page


def _select_sorted(q: ListQuery, spec: ListSpec, matched: list[Any], marker: Any) -> list[Any]:
    """Sort what matched; a marker outside the filter still positions the page."""
    added = marker is not None and all(o is not marker for o in matched)
    if added:
        matched.append(marker)
    ordered = _sorted(matched, spec, q.sorts)
    pos: int | None = None
    if marker is not None:
        pos = next(i for i, o in enumerate(ordered) if o is marker)
        if added:
            ordered.pop(pos)
    if q.limit is None:
        return ordered
    if q.reverse:
        end = len(ordered) if pos is None else pos
        return ordered[max(0, end - q.limit) : end]
    start = 0 if pos is None else pos + (0 if added else 1)
    return ordered[start : start + q.limit]


def _select_reverse(q: ListQuery, objects: Collection[Any], match: Match) -> list[Any]:
    """page_reverse: the `limit` objects before the marker, in forward order."""
    ordered = objects.ordered()
    end = len(ordered) if q.marker is None else objects.position_after(q.marker) - 1
    # `end` is the marker's own index: the page ends just before it.
    out: list[Any] = []
    for i in range(end - 1, -1, -1):
        if len(out) == q.limit:
            break
        if match(ordered[i]):
            out.append(ordered[i])
    out.reverse()
    return out


def _links(request: Request, c: Ctx, q: ListQuery, page: list[Any]) -> list[dict[str, str]]:
    """Neutron's pagination links: `next` whenever a page is full, `previous` too."""
    if not q.limit:
        return []
    base = c.base_url + request.url.path
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    links = []
    full = len(page) >= q.limit
    if full or q.reverse:
        forward = [(k, v) for k, v in params if k != "page_reverse"]
        if page:
            forward.append(("marker", page[-1].id))
        links.append({"rel": "next", "href": f"{base}?{urlencode(forward)}"})
    if full or not q.reverse:
        backward = [(k, v) for k, v in params if k != "page_reverse"]
        if page:
            backward.append(("marker", page[0].id))
        backward.append(("page_reverse", "True"))
        links.append({"rel": "previous", "href": f"{base}?{urlencode(backward)}"})
    return links


def shape(body: dict[str, Any], fields: list[str], admin: bool, hidden: Iterable[str]) -> dict:
    """Strip what policy hides from a non-admin, then keep only the asked `fields`."""
    if not admin:
        for key in hidden:
            body.pop(key, None)
    if fields:
        return {k: v for k, v in body.items() if k in fields}
    return body


def list_response(
    request: Request,
    spec: ListSpec,
    objects: Collection[Any],
    render: Callable[[Any], dict[str, Any]],
    visible: Match | None = None,
) -> Response:
    """A Neutron list: filters, changed_since, sorting, paging, links and fields."""
    c = ctx(request)
    admin = c.token is not None and c.token.is_admin
    q = parse_list_query(request, spec)
    page = _select(q, spec, objects, visible)
    items = [shape(render(obj), q.fields, admin, spec.admin_fields) for obj in page]
    body: dict[str, Any] = {spec.collection: items}
    links = _links(request, c, q, page)
    if links:
        body[f"{spec.collection}_links"] = links
    return json_response(body)


def show_response(
    request: Request, member: str, body: dict, hidden: Iterable[str] = ()
) -> Response:
    token = ctx(request).token
    fields = [f for f in request.query_params.getlist("fields") if f]
    admin = token is not None and token.is_admin
    return json_response({member: shape(body, fields, admin, hidden)})


# -- versions and extensions ------------------------------------------------


async def versions(request: Request) -> Response:
    """GET /: Neutron's version document needs no token."""
    url = ctx(request).service_url("network")
    body = {
        "versions": [
            {"status": "CURRENT", "id": "v2.0", "links": [{"href": f"{url}/v2.0", "rel": "self"}]}
        ]
    }
    return json_response(body)


async def version(request: Request) -> Response:
    authenticate(request)
    url = ctx(request).service_url("network")
    resources = [
        {
            "links": [{"href": f"{url}/v2.0/{collection}", "rel": "self"}],
            "name": name,
            "collection": collection,
        }
        for name, collection in CORE_RESOURCES
    ]
    return json_response({"resources": resources})


def _extension_body(alias: str, name: str, description: str, updated: str) -> dict[str, Any]:
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "updated": updated,
        "links": [],
    }


async def list_extensions(request: Request) -> Response:
    authenticate(request)
    extensions = region_extensions(_region(ctx(request)))
    return json_response({"extensions": [_extension_body(*e) for e in extensions]})


async def show_extension(request: Request) -> Response:
    authenticate(request)
    alias = request.path_params["alias"]
    for ext in region_extensions(_region(ctx(request))):
        if ext[0] == alias:
            return json_response({"extension": _extension_body(*ext)})
    raise ApiError(404, f"Extension with alias {alias} does not exist")


# -- agents -------------------------------------------------------------------


def _agent_common(agent: Agent, now: float) -> dict[str, Any]:
    return {
        "binary": agent.binary,
        "description": agent.description,
        "availability_zone": agent.zone,
        "heartbeat_timestamp": neutron_ts(agent.heartbeat(now)),
        "admin_state_up": agent.admin_state_up,
        "alive": agent.is_alive(now),
        "id": agent.id,
        "topic": agent.topic,
        "host": agent.host,
        "agent_type": agent.agent_type,
        "started_at": neutron_ts(agent.started_at),
        "created_at": neutron_ts(agent.created_at),
        "configurations": dict(agent.configurations),
    }


def agent_body(agent: Agent, now: float) -> dict[str, Any]:
    """An agent as /agents shows it (agent_resources_synced: set for OVS agents only)."""
    body = _agent_common(agent, now)
    body["resources_synced"] = True if agent.agent_type == OVS_AGENT else None
    return body


def _agent_spec(now: float) -> ListSpec:
    return ListSpec(
        collection="agents",
        not_found="Agent {} could not be found.",
        timestamps=False,
        attrs={
            "id": Attr(lambda a: a.id),
            "agent_type": Attr(lambda a: a.agent_type),
            "binary": Attr(lambda a: a.binary),
            "topic": Attr(lambda a: a.topic),
            "host": Attr(lambda a: a.host),
            "availability_zone": Attr(lambda a: a.zone),
            "description": Attr(lambda a: a.description),
            "admin_state_up": Attr(lambda a: a.admin_state_up, _to_bool),
            "alive": Attr(lambda a: a.is_alive(now), _to_bool),
        },
    )


async def list_agents(request: Request) -> Response:
    """GET /v2.0/agents: a non-admin gets 200 and an empty list (items hidden by policy)."""
    token = authenticate(request)
    c = ctx(request)
    spec = _agent_spec(c.now)
    if not token.is_admin:
        parse_list_query(request, spec)  # bad filters still answer 400
        return json_response({"agents": []})
    return list_response(request, spec, _region(c).agents, lambda a: agent_body(a, c.now))


def _agent_or_404(request: Request, token: Token) -> Agent:
    """The agent in the path; a non-admin is told it does not exist, as Neutron does."""
    agent_id = request.path_params["agent_id"]
    if not token.is_admin:
        raise ApiError(404, NOT_FOUND)
    agent = _region(ctx(request)).agents.get(agent_id)
    if agent is None:
        raise ApiError(404, f"Agent {agent_id} could not be found.")
    return agent


async def show_agent(request: Request) -> Response:
    token = authenticate(request)
    agent = _agent_or_404(request, token)
    return show_response(request, "agent", agent_body(agent, ctx(request).now))


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise ApiError(400, "Malformed request body") from None


AGENT_READ_ONLY = frozenset(
    {
        "id",
        "agent_type",
        "binary",
        "topic",
        "host",
        "created_at",
        "started_at",
        "heartbeat_timestamp",
        "alive",
        "configurations",
        "availability_zone",
        "resources_synced",
    }
)


async def update_agent(request: Request) -> Response:
    """PUT /v2.0/agents/{id}: admin_state_up and description only."""
    token = authenticate(request)
    agent = _agent_or_404(request, token)
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("agent"), dict):
        raise ApiError(400, "Unable to find 'agent' in request body")
    changes: dict[str, Any] = body["agent"]
    unknown = sorted(set(changes) - AGENT_READ_ONLY - {"admin_state_up", "description"})
    if unknown:
        raise ApiError(400, f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for key in changes:
        if key in AGENT_READ_ONLY:
            raise ApiError(400, f"Cannot update read-only attribute {key}")
    if "admin_state_up" in changes:
        try:
            agent.admin_state_up = _to_bool(changes["admin_state_up"])
        except ApiError as exc:
            raise ApiError(
                400, f"Invalid input for admin_state_up. Reason: {exc.message}."
            ) from None
    if "description" in changes:
        text = changes["description"]
        if text is not None and (not isinstance(text, str) or len(text) > 255):
            raise ApiError(400, "Invalid input for description. Reason: not a valid string.")
        agent.description = text
    return json_response({"agent": agent_body(agent, ctx(request).now)})


# -- routers ------------------------------------------------------------------


def _router_core(router: Router, region: Region) -> dict[str, Any]:
    """The keys every router body has (those of agents/{id}/l3-routers)."""
    zones = sorted({a.zone for aid in router.bindings if (a := region.agents.get(aid)) and a.zone})
    gateway = None
    if router.gateway_network_id:
        gateway = {
            "enable_snat": True,
            "external_fixed_ips": [
                {"ip_address": router.gateway_ip, "subnet_id": router.gateway_subnet_id}
            ],
            "network_id": router.gateway_network_id,
        }
    body = {
        "admin_state_up": router.admin_state_up,
        "availability_zone_hints": [],
        "availability_zones": zones,
        "description": "",
        "distributed": router.distributed,
        "external_gateway_info": gateway,
        "flavor_id": None,
        "ha": router.ha,
        "id": router.id,
        "name": router.name,
        "revision_number": router.revision,
        "routes": [],
        "status": router.status,
        "project_id": router.project_id,
        "tenant_id": router.project_id,
        "service_type_id": None,
    }
    if region.backend == "ovn":
        for key in OVN_ROUTER_ABSENT:
            del body[key]
    return body


def router_body(router: Router, region: Region) -> dict[str, Any]:
    body = _router_core(router, region)
    body.update(
        created_at=_ts(router.created_at),
        updated_at=_ts(router.updated_at),
        tags=[],
        conntrack_helpers=[],
    )
    return body


ROUTER_SPEC = ListSpec(
    collection="routers",
    not_found="Router {} could not be found.",
    admin_fields=ROUTER_ADMIN_FIELDS,
    attrs={
        "id": Attr(lambda r: r.id),
        "name": Attr(lambda r: r.name),
        "status": Attr(lambda r: r.status),
        "admin_state_up": Attr(lambda r: r.admin_state_up, _to_bool),
        "project_id": Attr(lambda r: r.project_id),
        "tenant_id": Attr(lambda r: r.project_id),
        "description": Attr(lambda r: ""),
        "revision_number": Attr(lambda r: r.revision, _to_int),
    },
)


async def list_routers(request: Request) -> Response:
    token = authenticate(request)
    region = _region(ctx(request))
    return list_response(
        request, ROUTER_SPEC, region.routers, lambda r: router_body(r, region), _owned_by(token)
    )


def _router_or_404(region: Region, router_id: str, token: Token | None = None) -> Router:
    router = region.routers.get(router_id)
    if router is None or (
        token is not None and not token.is_admin and router.project_id != token.project_id
    ):
        raise ApiError(404, f"Router {router_id} could not be found.")
    return router


async def show_router(request: Request) -> Response:
    token = authenticate(request)
    region = _region(ctx(request))
    router = _router_or_404(region, request.path_params["router_id"], token)
    return show_response(request, "router", router_body(router, region), ROUTER_ADMIN_FIELDS)


# -- L3 agent scheduler -------------------------------------------------------


def _enforce_admin(token: Token, action: str) -> None:
    """The scheduler controllers enforce policy before anything else: 403."""
    if not token.is_admin:
        raise _forbidden(action)


def _gateway_chassis_agents(region: Region, router: Router, now: float) -> list[dict[str, Any]]:
    """ML2/OVN: the router's candidate gateway chassis, as their gateway agents, each with
    its `ha_chassis_priority` (highest first) and no `ha_state`."""
    agents = []
    for i, agent_id in enumerate(router.gateway_chassis):
        agent = region.agents.get(agent_id)
        if agent is None:
            continue
        body = _agent_common(agent, now)
        body["ha_chassis_priority"] = HIGHEST_CHASSIS_PRIORITY - i
        body["resource_versions"] = {}
        agents.append(body)
    return agents


async def router_l3_agents(request: Request) -> Response:
    """GET /v2.0/routers/{id}/l3-agents, with ha_state as Neutron rewrites it (ML2/OVS),
    or the router's gateway chassis (ML2/OVN)."""
    token = authenticate(request)
    _enforce_admin(token, "get_l3-agents")
    c = ctx(request)
    region = _region(c)
    router = _router_or_404(region, request.path_params["router_id"])
    if region.backend == "ovn":
        return json_response({"agents": _gateway_chassis_agents(region, router, c.now)})
    agents = []
    for agent_id in router.bindings:
        agent = region.agents.get(agent_id)
        if agent is None:
            continue
        body = _agent_common(agent, c.now)
        body["ha_state"] = region.reported_ha_state(router, agent, c.now)
        body["resource_versions"] = {}
        agents.append(body)
    return json_response({"agents": agents})


async def agent_l3_routers(request: Request) -> Response:
    """GET /v2.0/agents/{id}/l3-routers: not paged; an unknown agent hosts nothing."""
    token = authenticate(request)
    _enforce_admin(token, "get_l3-routers")
    region = _region(ctx(request))
    routers = region.routers_on_agent(request.path_params["agent_id"])
    return json_response({"routers": [_router_core(r, region) for r in routers]})


def _l3_agent_for_scheduling(region: Region, agent_id: str) -> Agent:
    agent = region.agents.get(agent_id)
    if agent is None:
        raise ApiError(404, f"Agent {agent_id} could not be found.")
    if agent.agent_type != L3_AGENT or not agent.admin_state_up:
        raise ApiError(404, f"Agent {agent_id} is not a L3 Agent or has been disabled")
    return agent


async def add_router_to_agent(request: Request) -> Response:
    """POST /v2.0/agents/{id}/l3-routers: bind as standby (HA) and plug an HA port."""
    token = authenticate(request)
    _enforce_admin(token, "create_l3-router")
    c = ctx(request)
    region = _region(c)
    body = await _json_body(request)
    router_id = body.get("router_id") if isinstance(body, dict) else None
    if not isinstance(router_id, str) or not router_id:
        raise ApiError(400, "Invalid input for operation: router_id must be specified.")
    agent = _l3_agent_for_scheduling(region, request.path_params["agent_id"])
    router = _router_or_404(region, router_id)
    if agent.id in router.bindings:
        raise ApiError(409, _hosted(router.id, agent.id))
    if not router.ha and router.bindings:
        raise ApiError(409, _hosted(router.id, next(iter(router.bindings))))
    router.bindings[agent.id] = "standby" if router.ha else "active"
    if router.ha:
        _plug_ha_port(c, region, router, agent)
    _count_routers(agent, +1)
    return json_response(None, status=201)


def _hosted(router_id: str, agent_id: str) -> str:
    return f"The router {router_id} has been already hosted by the L3 Agent {agent_id}."


async def remove_router_from_agent(request: Request) -> Response:
    """DELETE /v2.0/agents/{id}/l3-routers/{router_id}: no other binding takes over."""
    token = authenticate(request)
    _enforce_admin(token, "delete_l3-router")
    region = _region(ctx(request))
    agent_id = request.path_params["agent_id"]
    agent = region.agents.get(agent_id)
    if agent is None:
        raise ApiError(404, f"Agent {agent_id} could not be found.")
    router = _router_or_404(region, request.path_params["router_id"])
    if agent.id not in router.bindings:
        raise ApiError(409, f"The router {router.id} is not hosted by L3 agent {agent.id}.")
    del router.bindings[agent.id]
    if router.ha:
        _unplug_ha_port(region, router, agent)
    _count_routers(agent, -1)
    return Response(status_code=204)


def _count_routers(agent: Agent, delta: int) -> None:
    agent.configurations["routers"] = max(0, agent.configurations.get("routers", 0) + delta)


def _plug_ha_port(c: Ctx, region: Region, router: Router, agent: Agent) -> None:
    """The HA port Neutron creates on the agent's host for a new HA binding."""
    siblings = [
        p for pid in region.ha_ports_by_router.get(router.id, []) if (p := region.ports.get(pid))
    ]
    template = siblings[0] if siblings else _any_ha_port(region)
    rng = c.world.rng
    used = {p.ip for p in siblings}
    ip = ""
    while not ip or ip in used:
        ip = f"169.254.{rng.randrange(192, 256)}.{rng.randrange(1, 255)}"
    port = Port(
        id=new_uuid(rng),
        name=f"HA port tenant {router.project_id}",
        network_id=template.network_id if template else new_uuid(rng),
        project_id="",
        device_owner=HA_INTERFACE_OWNER,
        device_id=router.id,
        host=agent.host,
        mac="fa:16:3e:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3)),
        ip=ip,
        subnet_id=template.subnet_id if template else new_uuid(rng),
        created_at=c.now,
        updated_at=c.now,
        status="ACTIVE" if agent.is_alive(c.now) else "DOWN",
    )
    region.ports.add(port.id, port)
    region.ha_ports_by_router.setdefault(router.id, []).append(port.id)


def _any_ha_port(region: Region) -> Port | None:
    for port_ids in region.ha_ports_by_router.values():
        for port_id in port_ids:
            if (port := region.ports.get(port_id)) is not None:
                return port
    return None


def _unplug_ha_port(region: Region, router: Router, agent: Agent) -> None:
    port_ids = region.ha_ports_by_router.get(router.id, [])
    for port_id in list(port_ids):
        port = region.ports.get(port_id)
        if port is None or port.host == agent.host:
            port_ids.remove(port_id)
            region.ports.remove(port_id)


# -- ports --------------------------------------------------------------------


def _dns_assignment(port: Port) -> list[dict[str, str]]:
    if not port.ip:
        return []
    hostname = "host-" + port.ip.replace(".", "-").replace(":", "-")
    return [{"hostname": hostname, "ip_address": port.ip, "fqdn": f"{hostname}.openstacklocal."}]


def port_body(port: Port) -> dict[str, Any]:
    bound = bool(port.host)
    return {
        "admin_state_up": port.admin_state_up,
        "allowed_address_pairs": [dict(p) for p in port.allowed_address_pairs],
        "binding:host_id": port.host,
        "binding:profile": {},
        "binding:vif_details": (
            {
                "connectivity": "l2",
                "port_filter": True,
                "ovs_hybrid_plug": False,
                "datapath_type": "system",
                "bridge_name": "br-int",
            }
            if bound
            else {}
        ),
        "binding:vif_type": "ovs" if bound else "unbound",
        "binding:vnic_type": "normal",
        "created_at": _ts(port.created_at),
        "data_plane_status": None,
        "description": "",
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "dns_assignment": _dns_assignment(port),
        "dns_domain": "",
        "dns_name": "",
        "extra_dhcp_opts": [],
        "fixed_ips": [{"ip_address": port.ip, "subnet_id": port.subnet_id}] if port.ip else [],
        "id": port.id,
        "ip_allocation": "immediate",
        "mac_address": port.mac,
        "name": port.name,
        "network_id": port.network_id,
        "project_id": port.project_id,
        "revision_number": port.revision,
        "security_groups": list(port.security_groups),
        "status": port.status,
        "tags": [],
        "tenant_id": port.project_id,
        "updated_at": _ts(port.updated_at),
        "qos_network_policy_id": None,
        "qos_policy_id": None,
        "port_security_enabled": port.port_security_enabled,
        "propagate_uplink_status": False,
        "pvlan_type": None,
        "pvlan_community": None,
    }


def _fixed_ips_filter(values: list[str]) -> Match:
    """`fixed_ips=ip_address=...` / `subnet_id=...` / `ip_address_substr=...`:
    OR within a key, AND across keys."""
    wanted: dict[str, set[str]] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or key not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise ApiError(
                400,
                f"Invalid input for fixed_ips. Reason: '{value}' is not of the form <key>=[value].",
            )
        wanted.setdefault(key, set()).add(text)

    def match(port: Port) -> bool:
        checks = {
            "ip_address": lambda vs: port.ip in vs,
            "subnet_id": lambda vs: port.subnet_id in vs,
            "ip_address_substr": lambda vs: any(v in port.ip for v in vs),
        }
        return all(checks[key](vs) for key, vs in wanted.items())

    return match


def _security_groups_filter(values: list[str]) -> Match:
    wanted = set(values)
    return lambda port: bool(wanted.intersection(port.security_groups))


PORT_SPEC = ListSpec(
    collection="ports",
    not_found="Port {} could not be found.",
    admin_fields=PORT_ADMIN_FIELDS,
    attrs={
        "id": Attr(lambda p: p.id),
        "name": Attr(lambda p: p.name),
        "network_id": Attr(lambda p: p.network_id),
        "project_id": Attr(lambda p: p.project_id),
        "tenant_id": Attr(lambda p: p.project_id),
        "device_owner": Attr(lambda p: p.device_owner),
        "device_id": Attr(lambda p: p.device_id),
        "status": Attr(lambda p: p.status),
        "mac_address": Attr(lambda p: p.mac),
        "admin_state_up": Attr(lambda p: p.admin_state_up, _to_bool),
        "port_security_enabled": Attr(lambda p: p.port_security_enabled, _to_bool),
        "binding:host_id": Attr(lambda p: p.host),
        "binding:vnic_type": Attr(lambda p: "normal"),
        "description": Attr(lambda p: ""),
        "revision_number": Attr(lambda p: p.revision, _to_int),
        "ip_allocation": Attr(lambda p: "immediate"),
    },
    special={"fixed_ips": _fixed_ips_filter, "security_groups": _security_groups_filter},
)


async def list_ports(request: Request) -> Response:
    token = authenticate(request)
    region = _region(ctx(request))
    return list_response(request, PORT_SPEC, region.ports, port_body, _owned_by(token))


# -- security group rules ------------------------------------------------------


def rule_body(rule: SecurityGroupRule) -> dict[str, Any]:
    return {
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "id": rule.id,
        "port_range_max": rule.port_range_max,
        "port_range_min": rule.port_range_min,
        "protocol": rule.protocol,
        "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": None,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "security_group_id": rule.security_group_id,
        "project_id": rule.project_id,
        "revision_number": 1,
        "created_at": _ts(rule.created_at),
        "updated_at": _ts(rule.updated_at),
        "tenant_id": rule.project_id,
        "description": rule.description,
        "belongs_to_default_sg": rule.belongs_to_default_sg,
    }


RULE_SPEC = ListSpec(
    collection="security_group_rules",
    not_found="Security group rule {} does not exist",
    attrs={
        "id": Attr(lambda r: r.id),
        "direction": Attr(lambda r: r.direction),
        "ethertype": Attr(lambda r: r.ethertype),
        "protocol": Attr(lambda r: r.protocol),
        "port_range_min": Attr(lambda r: r.port_range_min, _to_int),
        "port_range_max": Attr(lambda r: r.port_range_max, _to_int),
        "remote_ip_prefix": Attr(lambda r: r.remote_ip_prefix),
        "remote_group_id": Attr(lambda r: r.remote_group_id),
        "security_group_id": Attr(lambda r: r.security_group_id),
        "project_id": Attr(lambda r: r.project_id),
        "tenant_id": Attr(lambda r: r.project_id),
        "description": Attr(lambda r: r.description),
        "belongs_to_default_sg": Attr(lambda r: r.belongs_to_default_sg, _to_bool),
        "revision_number": Attr(lambda r: 1, _to_int),
    },
)


async def list_rules(request: Request) -> Response:
    token = authenticate(request)
    region = _region(ctx(request))
    return list_response(
        request, RULE_SPEC, region.security_group_rules, rule_body, _owned_by(token)
    )


# -- floating IPs ---------------------------------------------------------------


def fip_body(fip: FloatingIP, region: Region) -> dict[str, Any]:
    port = region.ports.get(fip.port_id) if fip.port_id else None
    details = None
    if port is not None:
        details = {
            "status": port.status,
            "name": port.name,
            "admin_state_up": port.admin_state_up,
            "network_id": port.network_id,
            "device_owner": port.device_owner,
            "mac_address": port.mac,
            "device_id": port.device_id,
        }
    return {
        "router_id": fip.router_id,
        "description": "",
        "dns_domain": "",
        "dns_name": "",
        "created_at": _ts(fip.created_at),
        "updated_at": _ts(fip.updated_at),
        "revision_number": fip.revision,
        "project_id": fip.project_id,
        "tenant_id": fip.project_id,
        "floating_network_id": fip.floating_network_id,
        "fixed_ip_address": fip.fixed_ip,
        "floating_ip_address": fip.floating_ip,
        "port_id": fip.port_id,
        "id": fip.id,
        "status": fip.status,
        "port_details": details,
        "tags": [],
        "port_forwardings": [],
        "qos_network_policy_id": None,
        "qos_policy_id": None,
    }


FIP_SPEC = ListSpec(
    collection="floatingips",
    not_found="Floating IP {} could not be found",
    attrs={
        "id": Attr(lambda f: f.id),
        "project_id": Attr(lambda f: f.project_id),
        "tenant_id": Attr(lambda f: f.project_id),
        "status": Attr(lambda f: f.status),
        "port_id": Attr(lambda f: f.port_id),
        "router_id": Attr(lambda f: f.router_id),
        "floating_ip_address": Attr(lambda f: f.floating_ip),
        "floating_network_id": Attr(lambda f: f.floating_network_id),
        "fixed_ip_address": Attr(lambda f: f.fixed_ip),
        "description": Attr(lambda f: ""),
        "revision_number": Attr(lambda f: f.revision, _to_int),
    },
)


async def list_floating_ips(request: Request) -> Response:
    token = authenticate(request)
    region = _region(ctx(request))
    return list_response(
        request, FIP_SPEC, region.floating_ips, lambda f: fip_body(f, region), _owned_by(token)
    )


# -- quota details ----------------------------------------------------------------


def quota_usage(region: Region, project_id: str) -> dict[str, int]:
    """What a project uses, counted from the world as Neutron's quota engine counts."""
    ports = [p for p in region.ports if p.project_id == project_id]
    rules = [r for r in region.security_group_rules if r.project_id == project_id]
    return {
        "network": len({p.network_id for p in ports}),
        "subnet": len({p.subnet_id for p in ports if p.subnet_id}),
        "port": len(ports),
        "router": sum(1 for r in region.routers if r.project_id == project_id),
        "floatingip": sum(1 for f in region.floating_ips if f.project_id == project_id),
        "security_group": len({r.security_group_id for r in rules}),
        "security_group_rule": len(rules),
        "rbac_policy": 0,
        "subnetpool": 0,
    }


async def quota_details(request: Request) -> Response:
    """GET /v2.0/quotas/{project_id}/details: admin, or the caller's own project."""
    token = authenticate(request)
    project_id = request.path_params["project_id"]
    if project_id != token.project_id and not token.is_admin:
        raise _forbidden("get_quota")
    region = _region(ctx(request))
    limits = region.quotas.get(project_id, DEFAULT_QUOTAS)
    used = quota_usage(region, project_id)
    body = {
        resource: {"used": used.get(resource, 0), "limit": limit, "reserved": 0}
        for resource, limit in limits.items()
    }
    return json_response({"quota": body})


def routes() -> list[Route]:
    return [
        Route("/", versions, methods=["GET"]),
        Route("/v2.0", version, methods=["GET"]),
        Route("/v2.0/", version, methods=["GET"]),
        Route("/v2.0/extensions", list_extensions, methods=["GET"]),
        Route("/v2.0/extensions/{alias}", show_extension, methods=["GET"]),
        Route("/v2.0/agents", list_agents, methods=["GET"]),
        Route("/v2.0/agents/{agent_id}", show_agent, methods=["GET"]),
        Route("/v2.0/agents/{agent_id}", update_agent, methods=["PUT"]),
        Route("/v2.0/agents/{agent_id}/l3-routers", agent_l3_routers, methods=["GET"]),
        Route("/v2.0/agents/{agent_id}/l3-routers", add_router_to_agent, methods=["POST"]),
        Route(
            "/v2.0/agents/{agent_id}/l3-routers/{router_id}",
            remove_router_from_agent,
            methods=["DELETE"],
        ),
        Route("/v2.0/routers", list_routers, methods=["GET"]),
        Route("/v2.0/routers/{router_id}", show_router, methods=["GET"]),
        Route("/v2.0/routers/{router_id}/l3-agents", router_l3_agents, methods=["GET"]),
        Route("/v2.0/ports", list_ports, methods=["GET"]),
        Route("/v2.0/security-group-rules", list_rules, methods=["GET"]),
        Route("/v2.0/floatingips", list_floating_ips, methods=["GET"]),
        Route("/v2.0/quotas/{project_id}/details", quota_details, methods=["GET"]),
    ]
