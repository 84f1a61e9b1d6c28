"""Placeholder: filled in by the nova work item."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
