"""The merchant dashboard at /dashboard: server-rendered pages on the same services as the API."""
