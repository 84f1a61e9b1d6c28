"""Collectors: one per kind, turning API answers into immutable snapshots."""
