"""Scheduled work: the scheduler wiring and thin job entrypoints (housekeeping, later more)."""
