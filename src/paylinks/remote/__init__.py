"""Commands that work on a running paylinks server through its API (`paylinks.client`), not on
the database: `paylinks links …` and `paylinks charges …`."""
