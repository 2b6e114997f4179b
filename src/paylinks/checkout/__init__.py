"""The hosted payment page: a client of the link, token, source and charge runtime, with no
payment rules of its own."""
