"""Settings: built once (by the CLI or a test) and passed down; no import reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paylinks.receipts.smtp import parse_smtp_url
from paylinks.web.proxies import parse_networks
from paylinks.web.ratelimit import parse_policy

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Every knob of a paylinks process; each is also a `PAYLINKS_*` environment variable."""

    model_config = SettingsConfigDict(env_prefix="PAYLINKS_", extra="ignore", populate_by_name=True)

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    public_url: str = "http://127.0.0.1:8000"
    rate_limits: str = "60/minute;1000/hour"
    max_active_links: int = Field(default=100, ge=0)
    redis_url: str = ""
    # Seconds an authenticated key stays cached in a process; a rolled key stops working
    # everywhere within this time (at once in the process that rolled it).
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    db_pool_size: int = Field(default=8, ge=1)
    # Largest request body accepted, in bytes (413 above it).
    max_body_bytes: int = Field(default=65536, ge=1024)
    # Prometheus metrics at GET /metrics (off: 404); with a token, only for that bearer token.
    metrics: bool = False
    metrics_token: str = ""
    # This installation takes live payments: `serve` and `worker` refuse unsafe settings
    # (see `safety`). Off for development and CI, where test keys are what matters.
    live_mode: bool = False
    log_level: str = "info"
    # "json" (one object per line, with the request id: for log collectors) or "text".
    log_format: str = "json"
    # Keys card fingerprints and signs page tokens. Empty: a random secret is created once and
    # kept in the database, so every process of one installation shares it.
    secret: str = ""
    # Omise, where connected accounts' live payments go (`paylinks accounts connect-omise`).
    # Tests point these at a second paylinks in test mode, which speaks the same API.
    omise_api_url: str = "https://api.omise.co"
    omise_vault_url: str = "https://vault.omise.co"
    omise_js_url: str = "https://cdn.omise.co/omise.js"
    # How long a call to Omise may take before its answer counts as lost, and how long a live
    # charge waits, pending, before the sweeper asks Omise what became of it (longer than a
    # call can take, so that no request is still waiting for the answer).
    omise_timeout_seconds: float = Field(default=30.0, gt=0)
    omise_settle_after_seconds: float = Field(default=90.0, gt=0)
    # Run the webhook delivery worker inside `serve` (the embedded default); `paylinks worker`
    # runs it on its own.
    deliver_webhooks: bool = True
    # How long a worker's claim on a delivery holds; a killed worker's deliveries are sent
    # again after it. Longer than an attempt can take (10 s).
    webhook_lease_seconds: float = Field(default=60.0, ge=1)
    # Webhook URLs must reach public addresses (and, in test mode, loopback, so that localhost
    # needs no tunnel). This lets them reach private ones (RFC 1918, link-local, CGNAT, …) on
    # purpose, in both modes; live mode refuses to start with it.
    allow_private_webhooks: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "allow_private_webhooks",
            "PAYLINKS_WEBHOOK_ALLOW_PRIVATE",
            "PAYLINKS_ALLOW_PRIVATE_WEBHOOKS",  # the name of earlier releases
        ),
    )
    # Receipt e-mails to customers who give an address on the payment page: the SMTP server
    # (`smtp://user:password@host:587` with STARTTLS when offered, `smtps://…:465` for TLS from
    # the start, `smtp://host:25?tls=off` for a local relay). Empty: no receipts, and the page
    # asks for no address. `smtp_from` is the sender; the merchant's support e-mail is Reply-To.
    smtp_url: str = ""
    smtp_from: str = ""
    # Send receipts inside `serve` (the embedded default); `paylinks worker` always sends them.
    send_receipts: bool = True
    # Webhook endpoints an account may have per mode (Stripe allows 16); 0 for no cap. Every
    # change queues one delivery per endpoint inside its own transaction.
    max_webhook_endpoints: int = Field(default=16, ge=0)
    # Addresses (or networks) of reverse proxies whose `X-Forwarded-For` names the client;
    # comma-separated. Empty: the connecting address is the client (see `proxies`).
    trusted_proxies: str = ""
    # Append every test-mode processor call (charge id, card reference, amount; never a card
    # number) to this file as a JSON line: for tests and debugging that count what the card
    # network was asked to do across processes.
    test_processor_journal: Path | None = None
    # Payment attempts on the hosted page (card-testing defence), written like `rate_limits`;
    # `off` disables one. Counted per client address, per link, per card (its fingerprint)
    # and per account; a refused attempt never reaches the processor.
    checkout_ip_limits: str = "10/minute"
    checkout_link_limits: str = "30/minute"
    checkout_card_limits: str = "10/minute;30/hour"
    checkout_account_limits: str = "300/minute"

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator(
        "checkout_ip_limits",
        "checkout_link_limits",
        "checkout_card_limits",
        "checkout_account_limits",
    )
    @classmethod
    def _readable_policy(cls, value: str) -> str:
        parse_policy(value)  # a typo fails at start-up, not on the first payment
        return value

    @field_validator("smtp_url")
    @classmethod
    def _readable_smtp(cls, value: str) -> str:
        if value:
            parse_smtp_url(value)  # ValueError at start-up, not at the first receipt
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _readable_proxies(cls, value: str) -> str:
        parse_networks(value)  # ValueError: not an address or a network
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paylinks.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
