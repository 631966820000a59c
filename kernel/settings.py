"""The one settings object: read from the environment (and an optional `.env`), validated once.

Every variable is documented in README.md ("Configuration"). A missing or malformed value stops
start-up with a message naming the variable; secret values never appear in that message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

INTERCOM_REGION_BASES = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}

DEFAULT_ATTRIBUTE_ALLOWLIST = (
    "stripe_id",
    "stripe_plan",
    "stripe_plan_price",
    "stripe_plan_interval",
    "stripe_subscription_status",
    "stripe_subscription_period_end_at",
    "stripe_trial_end_at",
    "stripe_cancel_at_period_end",
    "stripe_delinquent",
    "stripe_account_balance",
    "stripe_ltv",
    "stripe_has_payment_method",
    "stripe_last_payment_failure",
    "usage_status",
    "VIP_Status",
)

Locale = Literal["en", "de"]
# Shortest accepted SECRET_KEY and FIN_ACTION_TOKENS entry.
MIN_SECRET_LENGTH = 16


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Configuration of one server process. Money limits are in the currency's minor unit."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- connections and secrets (PRODUCT.md §1.1) ---
    stripe_api_key: SecretStr
    stripe_api_base: str | None = None
    stripe_webhook_secret: SecretStr = SecretStr("")
    intercom_client_secret: SecretStr
    intercom_access_token: SecretStr = SecretStr("")
    intercom_region: Literal["us", "eu", "au"] = "us"
    intercom_api_base: str | None = None
    intercom_admin_id: str | None = None
    fin_action_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    admin_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    secret_key: SecretStr
    public_url: str = "http://localhost:8000"
    database_url: str = "sqlite+aiosqlite:///./canvas_app.sqlite3"
    log_format: Literal["text", "json"] = "text"

    # --- behaviour ---
    agent_locale: Locale = "en"
    customer_locale: Locale = "en"
    # How German speaks to customers (cards, Fin, link pages): formal "Sie" or informal "du".
    german_address: Literal["sie", "du"] = "sie"
    stripe_timeout_seconds: float = Field(default=8.0, gt=0, le=30)
    stripe_max_network_retries: int = Field(default=1, ge=0, le=5)
    snapshot_cache_seconds: float = Field(default=30.0, ge=0)
    snapshot_cache_offline_seconds: float = Field(default=3.0, ge=0)
    lifetime_value_cache_seconds: float = Field(default=3600.0, ge=0)
    match_cache_seconds: float = Field(default=300.0, ge=0)
    user_id_metadata_key: str = "user_id"
    usage_limit_metadata_key: str = "usage_limit"
    usage_meter_metadata_key: str = "usage_meter"

    # --- refund policy (Fin and inbox) ---
    refund_max_amount: int = Field(default=10_000, ge=0)
    refund_max_age_days: int = Field(default=60, ge=0)
    refund_max_per_customer: int = Field(default=2, ge=0)
    refund_window_days: int = Field(default=30, ge=1)
    confirmation_token_seconds: int = Field(default=600, ge=30)

    # --- cancel or save (Messenger `cancel` card, Fin, sidebar) ---
    # A Stripe coupon id offered to a customer who wants to cancel; empty: no coupon offer.
    retention_coupon: str = ""
    cancel_pause_months: int = Field(default=3, ge=1, le=3)

    # --- automations ---
    vip_threshold: int = Field(default=50_000, ge=0)
    vip_threshold_currency: str = Field(default="eur", pattern=r"^[a-zA-Z]{3}$")
    usage_high_ratio: float = Field(default=0.8, gt=0, le=10)
    escalation_delay_hours: float = Field(default=48, ge=0)
    trial_warning_days: int = Field(default=3, ge=0)
    intercom_attribute_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ATTRIBUTE_ALLOWLIST)
    )

    # --- Messenger recovery ---
    retry_cooldown_minutes: int = Field(default=60, ge=0)
    link_max_age_hours: int = Field(default=72, ge=1)
    link_max_sessions: int = Field(default=20, ge=1)
    payment_method_flow: Literal["checkout", "portal"] = "checkout"

    # --- billing details (address and tax ids, through the Billing Portal) ---
    # The operator's own configuration (`bpc_...`); unset: the app makes one that lets the
    # customer change their address and tax ids only (billing.billing_details).
    billing_portal_configuration: str | None = Field(default=None, pattern=r"^bpc_[A-Za-z0-9_]+$")

    @field_validator(
        "fin_action_tokens", "admin_tokens", "intercom_attribute_allowlist", mode="before"
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("admin_tokens")
    @classmethod
    def _admin_tokens_long_enough(cls, value: list[SecretStr]) -> list[SecretStr]:
        if any(len(token.get_secret_value()) < 16 for token in value):
            raise ValueError("each token must be at least 16 characters")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("fin_action_tokens")
    @classmethod
    def _tokens_long_enough(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        # A bearer token is the only thing between Fin's connectors and refunds: a short one
        # could be guessed. Which entry is short is said by position, never by value.
        for position, token in enumerate(tokens, start=1):
            if len(token.get_secret_value()) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"entry {position} is shorter than {MIN_SECRET_LENGTH} characters "
                    "(use long random tokens, e.g. `openssl rand -hex 24`)"
                )
        return tokens

    @field_validator("billing_portal_configuration", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url", "stripe_api_base", "intercom_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @property
    def intercom_base_url(self) -> str:
        return self.intercom_api_base or INTERCOM_REGION_BASES[self.intercom_region]

    @property
    def stripe_live_mode(self) -> bool:
        key = self.stripe_api_key.get_secret_value()
        return key.startswith(("sk_live_", "rk_live_"))

    def stripe_dashboard_url(self, path: str) -> str:
        base = "https://dashboard.stripe.com" + ("" if self.stripe_live_mode else "/test")
        return f"{base}/{path.lstrip('/')}"


class SettingsError(Exception):
    """Raised instead of pydantic's error so that no input value (a secret) is ever printed."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            message = "is required but not set" if error["type"] == "missing" else error["msg"]
            message = message.removeprefix("Value error, ")
            lines.append(f"  {name}: {message}")
        raise SettingsError("Invalid configuration:\n" + "\n".join(lines)) from None
