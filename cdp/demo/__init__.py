"""Demo data: a small shop and its customers, so a first start shows a living CDP."""
