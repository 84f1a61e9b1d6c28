"""Placeholder: filled in by the cinder work item."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
