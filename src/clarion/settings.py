"""Settings: the only reader of the environment and of the data directory's config file."""

from __future__ import annotations

import json
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from clarion.core.errors import NotInitialised

SECRETS_FILE = "secrets.json"
CONFIG_FILE = "clarion.toml"
SECRET_NAMES = ("signing_key", "api_key_pepper")


class SmtpSettings(BaseModel):
    """Where outgoing mail goes."""

    host: str = "127.0.0.1"
    port: int = 2525
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    from_address: str = "Clarion <campaigns@localhost>"
    max_connections: int = Field(default=4, ge=1, le=64, description="persistent connections")
    rate_per_second: float = Field(default=50.0, ge=0, description="0: no limit")
    timeout_seconds: float = Field(default=30.0, gt=0)
    return_path: str | None = Field(default=None, description="MAIL FROM; default from_address")
    sending_domain: str | None = Field(default=None, description="Message-ID domain")
    unsubscribe_mailto: str | None = Field(default=None, description="List-Unsubscribe mailto")
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: Path | None = Field(default=None, description="PEM private key")
    batch_size: int = Field(default=500, ge=1, le=5000, description="rows claimed at once")
    in_flight: int = Field(default=32, ge=1, le=1000, description="rows in `sending` at once")
    frequency_cap: int = Field(default=0, ge=0, description="max marketing emails; 0: no cap")
    frequency_cap_days: int = Field(default=7, ge=1, le=365)
    tls_ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for STARTTLS (a private relay)"
    )
    retry_seconds: float = Field(
        default=60.0, ge=0, le=86_400, description="wait before retrying a 4xx; doubles per try"
    )


class FeedbackSettings(BaseModel):
    """Bounces and complaints: when soft bounces suppress, and the providers' webhook keys."""

    soft_bounce_limit: int = Field(default=3, ge=1, description="soft bounces that suppress")
    soft_bounce_window_days: int = Field(default=14, ge=1, description="over this many days")
    webhook_max_age_seconds: int = Field(
        default=300, ge=1, description="signed webhooks older than this are refused as replays"
    )
    mailgun_signing_key: SecretStr | None = None  # Mailgun's "HTTP webhook signing key"
    sendgrid_public_key: str | None = None  # SendGrid's base64 ECDSA verification key
    ses_topic_arns: list[str] = Field(
        default_factory=list, description="SNS topics whose SES notifications are accepted"
    )


class WebhookChannelSettings(BaseModel):
    """A channel (SMS, push, chat) reached through a provider's webhook: where and with what key."""

    url: str
    secret: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10)


class Secrets(BaseModel):
    """Keys generated at ``clarion init`` and kept in the data directory with mode 0600."""

    signing_key: SecretStr  # HMAC key for tracking and unsubscribe tokens
    api_key_pepper: SecretStr  # HMAC key under which API keys are stored hashed


def _config_file() -> Path:
    return Path(os.environ.get("CLARION_DATA_DIR", "clarion-data")) / CONFIG_FILE


class Settings(BaseSettings):
    """Everything configurable; env ``CLARION_*`` wins over ``<data_dir>/clarion.toml``."""

    model_config = SettingsConfigDict(
        env_prefix="CLARION_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("clarion-data")
    app_store_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data directory"
    )
    event_store_url: str | None = Field(
        default=None, description="Event store URL; default: DuckDB file in the data directory"
    )
    smtp: SmtpSettings = SmtpSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    webhook_channels: dict[str, WebhookChannelSettings] = Field(
        default_factory=dict, description="channel name -> its provider webhook"
    )
    public_url: str = "http://127.0.0.1:8000"
    default_currency: str = "EUR"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    @property
    def resolved_app_store_url(self) -> str:
        return self.app_store_url or f"sqlite:///{(self.data_dir / 'app.db').resolve()}"

    @property
    def resolved_event_store_url(self) -> str:
        return self.event_store_url or f"duckdb://{(self.data_dir / 'events.duckdb').resolve()}"

    @property
    def secrets_path(self) -> Path:
        return self.data_dir / SECRETS_FILE

    @cached_property
    def secrets(self) -> Secrets:
        """The stored secrets; NotInitialised if ``clarion init`` has not run."""
        path = self.secrets_path
        if not path.exists():
            raise NotInitialised(
                f"no secrets in {self.data_dir}: run 'clarion init' first "
                "(or set CLARION_DATA_DIR to an initialised data directory)"
            )
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return Secrets.model_validate(raw)


def ensure_secrets(settings: Settings) -> bool:
    """Create the data directory and its secrets file (0600) if missing; True if created."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.secrets_path
    if path.exists():
        path.chmod(0o600)
        return False
    values = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    return True


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and config file, with explicit overrides on top."""
    return Settings(**overrides)
