"""Placeholder: filled in by the neutron work item."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
