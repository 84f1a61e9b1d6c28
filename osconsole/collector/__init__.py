"""The headless collector: one process polls, judges and records; viewers watch it."""
