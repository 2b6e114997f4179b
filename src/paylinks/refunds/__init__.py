"""Refunds: parts of a captured charge given back to the customer."""
