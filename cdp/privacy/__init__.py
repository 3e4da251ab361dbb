"""Privacy and access: API keys and scopes, masking, consent, data rights, rate limits."""
