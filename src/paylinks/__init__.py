"""paylinks: a self-hosted payment links server that speaks the Omise Payment Links API."""

__version__ = "0.1.0"
