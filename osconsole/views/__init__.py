"""What each pane shows, as plain data: rows keyed across regions, worst first.

The console, the wall and any future viewer render these; nothing here knows
Textual. A row's meaning is always in its text ("DOWN", "2 SPLIT"), never in its
colour alone: `tone` only adds emphasis for terminals that have colour.

Nothing here judges: every row's severity, its Severity column and its words are
the object's assessment (`osconsole.health.assess`, the one judge), and the facts
shown are those of the snapshots it judged (`Verdicts.snapshots`).

One module per pane (hypervisors, routers, tenants, liveness, regions for the strip),
on what a view is (model), how an assessment reads in a row (severity) and how views
are built cheaply (build); this package re-exports what viewers use.

The view functions are pure (the time is passed in): 10,000 hypervisors and
20,000 routers must stay cheap, so each is one pass over the items, shares
identical cells, and sorts once. The console rebuilds them on every poll through
incremental builders (HypervisorRows, RouterRows, LivenessRows): the same results,
but only the rows of items that changed are made again, and the others are the
very objects of the previous view.
"""

from __future__ import annotations

from osconsole.health.findings import Severity
from osconsole.text import format_age, format_ratio
from osconsole.views.build import BIG_BUILD, IncrementalRows, gc_paused, region_labels
from osconsole.views.hypervisors import HypervisorRows, hypervisors_view
from osconsole.views.liveness import LivenessRows, liveness_view
from osconsole.views.model import (
    AgeCell,
    Cell,
    Column,
    RegionStatus,
    Row,
    TableView,
    Target,
    Tone,
    shorten,
    shown_age,
)
from osconsole.views.regions import region_statuses
from osconsole.views.routers import (
    Chassis,
    RouterRows,
    active_on_text,
    actives_text,
    project_names,
    routers_view,
)
from osconsole.views.severity import SEVERITY_WORDS, TONES, UNKNOWN_SORT, problem_words
from osconsole.views.tenants import tenants_view

__all__ = [
    "BIG_BUILD",
    "SEVERITY_WORDS",
    "TONES",
    "UNKNOWN_SORT",
    "AgeCell",
    "Cell",
    "Chassis",
    "Column",
    "HypervisorRows",
    "IncrementalRows",
    "LivenessRows",
    "RegionStatus",
    "RouterRows",
    "Row",
    "Severity",
    "TableView",
    "Target",
    "Tone",
    "active_on_text",
    "actives_text",
    "format_age",
    "format_ratio",
    "gc_paused",
    "hypervisors_view",
    "liveness_view",
    "problem_words",
    "project_names",
    "region_labels",
    "region_statuses",
    "routers_view",
    "shorten",
    "shown_age",
    "tenants_view",
]
