"""Live payments through an acquirer: an account's connection to its own Omise account (and,
as the live-payments issue goes on, the processor that sends live charges there)."""
