"""Computed profile metrics: pure functions over a person's events, and models fitted on
the whole customer base. The same functions serve the per-event and the bulk paths."""
