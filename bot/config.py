"""Settings from the environment (prefix ``AUYLNET_``) and an optional ``.env`` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org/bot"
# Beside a checkout, ../shared holds the Bot API spec; an installed package usually has none.
CHECKOUT_BOTAPI_SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "botapi-10.0.json"
Language = Literal["kk", "ru"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUYLNET_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr = Field(description="Bot token from @BotFather")
    api_base_url: str = Field(TELEGRAM_API, description="Bot API base URL, ending in /bot")
    db_path: Path = Path("auylnet.db")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    staff_chat_id: int | None = None
    default_language: Language = "kk"
    timezone: str = "Asia/Almaty"
    # Without a spec file the sandbox checks Telegram's limits only; set explicitly, it must exist.
    botapi_spec: Path = Field(CHECKOUT_BOTAPI_SPEC, description="Bot API spec the sandbox validates against")
    # Telegram's own limits, which the outbox stays under.
    rate_global_per_second: float = 30.0
    rate_group_per_minute: float = 20.0
    rate_private_per_second: float = 1.0
    # Outage reports: how many a resident may file per hour, and when reports become a mass outage.
    reports_per_hour: int = 5
    mass_outage_reports: int = 10
    mass_outage_minutes: int = 30
    mass_outage_villages: int = 3
    take_within_minutes: int = 60
    resolve_within_hours: int = 24
    seat_offer_minutes: int = 120
    # Fair use of class seats: relatives one person may book for one class, and for one week's classes.
    relatives_per_class: int = Field(3, ge=0)
    relatives_per_week: int = Field(5, ge=0)
    # Running: webhook mode when webhook_url is set (polling otherwise), health check, timeouts.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    health_listen: str = "127.0.0.1"
    health_port: int = Field(8444, ge=0, le=65535)  # polling mode only; 0 = no health server
    health_stuck_seconds: float = Field(600.0, gt=0)
    send_read_timeout: float = Field(30.0, gt=0)
    stop_timeout: float = Field(20.0, ge=0)

    @field_validator("bot_token")
    @classmethod
    def _token_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty: copy the token from @BotFather")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("botapi_spec")
    @classmethod
    def _spec_exists(cls, value: Path) -> Path:
        if value != CHECKOUT_BOTAPI_SPEC and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("1-256 characters: letters, digits, _ and - only (Telegram's rule)")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sandbox_spec(self) -> Path | None:
        """The spec file the sandbox validates against, or None to check Telegram's limits only."""
        return self.botapi_spec if self.botapi_spec.is_file() else None
