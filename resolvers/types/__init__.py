"""GraphQL object types, each with its field resolvers beside it."""
