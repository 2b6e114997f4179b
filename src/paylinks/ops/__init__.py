"""Running an installation: serving, health and metrics, housekeeping, live-mode safety."""
