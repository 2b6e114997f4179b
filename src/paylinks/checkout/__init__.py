"""The hosted payment page: a client of the link, token, source and charge services, with no
payment rules of its own."""
