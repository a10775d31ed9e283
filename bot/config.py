"""Configuration from environment variables (and a ``.env`` file), as listed in the README."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Locale = Literal["th", "en"]


class Settings(BaseSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///./chatcrm.db", alias="CHATCRM_DATABASE_URL"
    )
    host: str = Field(default="127.0.0.1", alias="CHATCRM_HOST")
    port: int = Field(default=8080, ge=1, le=65535, alias="CHATCRM_PORT")
    public_url: str | None = Field(default=None, alias="CHATCRM_PUBLIC_URL")
    timezone: str = Field(default="Asia/Bangkok", alias="CHATCRM_TIMEZONE")
    locale: Locale = Field(default="th", alias="CHATCRM_LOCALE")
    shop_name: str = Field(default="chatcrm", alias="CHATCRM_SHOP_NAME")

    telegram_bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_BASE")
    telegram_bot_username: str | None = Field(default=None, alias="TELEGRAM_BOT_USERNAME")

    line_channel_secret: str | None = Field(default=None, alias="LINE_CHANNEL_SECRET")
    line_channel_access_token: str | None = Field(default=None, alias="LINE_CHANNEL_ACCESS_TOKEN")
    line_api_base: str = Field(default="https://api.line.me", alias="LINE_API_BASE")
    line_data_api_base: str = Field(default="https://api-data.line.me", alias="LINE_DATA_API_BASE")
    line_basic_id: str | None = Field(default=None, alias="LINE_BASIC_ID")

    #: messages a second the dispatcher sends on Telegram overall, and to one chat (Telegram
    #: allows about 30 and 1; the default leaves room for network jitter)
    telegram_rate: float = Field(default=28.0, gt=0, alias="TELEGRAM_RATE")
    telegram_chat_rate: float = Field(default=1.0, gt=0, alias="TELEGRAM_CHAT_RATE")
    #: requests a second to LINE's push and multicast endpoints (LINE: 2,000 and 200)
    line_push_rate: float = Field(default=2000.0, gt=0, alias="LINE_PUSH_RATE")
    line_multicast_rate: float = Field(default=200.0, gt=0, alias="LINE_MULTICAST_RATE")

    #: how often a process that is not the leader tries to take the scheduler/dispatcher lock
    #: (PostgreSQL), and how often the leader checks its lock connection: a killed leader is
    #: replaced within about this many seconds
    leader_retry_seconds: float = Field(default=5.0, gt=0, alias="CHATCRM_LEADER_RETRY_SECONDS")
    #: how long the dispatcher reserves the outbox rows it claims; rows a killed leader had
    #: claimed but not sent go out this long after its claim at the latest (sends stop a quarter
    #: of it, at most 30 s, before the end so a request in flight never outlives the reservation)
    outbox_lease_seconds: float = Field(default=60.0, ge=4, alias="CHATCRM_OUTBOX_LEASE_SECONDS")
    #: how ``serve`` and ``polling`` write logs: text, kv (key=value) or json, every line with
    #: the channel, event id and member id of the event being handled
    log_format: Literal["text", "kv", "json"] = Field(default="text", alias="CHATCRM_LOG_FORMAT")
    #: a secret that, sent as ``Authorization: Bearer …``, makes ``/healthz`` add the channels,
    #: outbox depth, leader and job runs (unset: /healthz says only ok or not, to everyone)
    status_token: str | None = Field(default=None, alias="CHATCRM_STATUS_TOKEN")
    #: SQLite's ``synchronous``: ``normal`` (WAL; a power cut may lose the last commits, never
    #: corrupt the file) or ``full`` (every commit on disk before the webhook is answered)
    sqlite_synchronous: Literal["normal", "full"] = Field(
        default="normal", alias="CHATCRM_SQLITE_SYNCHRONOUS"
    )

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    @field_validator("public_url", "telegram_api_base", "line_api_base", "line_data_api_base")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        # ``host/`` would make the SDKs call ``host//v2/...``
        return value.rstrip("/") if value else value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _lower_synchronous(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # fail at start-up rather than at the first birthday job
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def connected_channels(self) -> frozenset[str]:
        """The channels this configuration can deliver on: those whose tokens are set, and the
        console (it needs none; its messages wait for their user's terminal)."""
        on = {"console"}
        if self.telegram_enabled:
            on.add("telegram")
        if self.line_enabled:
            on.add("line")
        return frozenset(on)
