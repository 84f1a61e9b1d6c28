"""Pure health rules: facts from snapshots in, scores and findings out (no I/O, no UI)."""
