"""The API's settings, from the environment or ``.env`` (prefix ``AUYLNET_API_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUYLNET_API_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Serve the API inside `auylnet run` (polling or webhook mode) instead of a separate `auylnet api`.
    with_bot: bool = False
    listen: str = Field(default="127.0.0.1", description="address the API listens on")
    port: int = Field(default=8090, ge=0, le=65535)
    # The address clients reach the API at (behind a proxy), named in the Open311 discovery answer.
    public_url: str | None = None
    contact: str = Field(default="", description="who to ask about the API, for the Open311 discovery answer")
    # Requests a minute: each key (unless the key has its own figure), and each address without a key.
    key_per_minute: int = Field(default=600, ge=1)
    anonymous_per_minute: int = Field(default=60, ge=1)
    # Behind a reverse proxy the client's address is the last entry of X-Forwarded-For.
    trust_forwarded_for: bool = False
    # Open311 GET requests: the most one page holds, and how far from a point a village may be.
    page_size: int = Field(default=100, ge=1, le=1000)
    nearest_village_km: float = Field(default=5.0, gt=0)
