"""Placeholder: filled in by the control work item."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
