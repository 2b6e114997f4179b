"""A typed client for the paylinks API (synchronous today), for our own tools and for scripts."""

from paylinks.client.errors import PaylinksConnectionError, PaylinksError
from paylinks.client.sync import Client

__all__ = ["Client", "PaylinksConnectionError", "PaylinksError"]
