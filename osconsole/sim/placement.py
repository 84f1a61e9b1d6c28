"""Placeholder: filled in by the placement work item."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
