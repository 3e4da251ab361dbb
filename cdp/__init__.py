"""Customer data platform: one profile per person, served over GraphQL."""
