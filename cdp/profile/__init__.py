"""The profile: finding persons, their identifiers, traits and timeline, and the
per-person refresh of metrics and memberships."""
