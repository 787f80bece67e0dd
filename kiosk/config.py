"""Settings: defaults < DATA_DIR/config.toml < IPKIOSK_* environment < command-line flags."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError

STOP_BINDING_FLAG = "IP-Auth-Stop-Binding-2.0"


class RegionSource(BaseModel):
    """Where one region's directory lives: a local shard (default) or an online endpoint."""

    url: str | None = None  # NPPES Registry API v2.1 shaped endpoint
    path: Path | None = None  # SQLite shard; default DATA_DIR/directory/region-N.sqlite3


class SmtpSettings(BaseModel):
    """`[smtp]`: where binding notifications are delivered; `smtp-password` lives in the keyring."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    from_addr: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    starttls: bool = True
    username: str | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ipkiosk", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPKIOSK_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # None: SQLite in data_dir; or postgresql://user@host/db
    kiosk_id: str = Field(default_factory=socket.gethostname)
    # IP-Auth-Stop-Binding-2.0: only a verified NPI may bind the iPrescribe Authenticator app.
    stop_binding: bool = True
    idle_timeout: float = 120.0
    idle_warning: float = 20.0
    camera: str = "0"
    scan_timeout: float = 60.0
    region_timeout: float = 2.0
    regions: dict[int, RegionSource] = Field(default_factory=dict)
    # Enrollment-image issuers trusted by this kiosk: issuer name -> Ed25519 public key (PEM).
    issuers: dict[str, str] = Field(default_factory=dict)
    issuer_name: str = "ipkiosk"
    keyring: Literal["system", "demo-file", "memory"] = "system"
    demo: bool = False
    smtp: SmtpSettings | None = None
    # 1311.115(b): a token bound for a provider with EPCS permission needs a FIPS 140 certificate.
    epcs_require_fips: bool = True

    @field_validator("regions")
    @classmethod
    def _regions_1_to_5(cls, v: dict[int, RegionSource]) -> dict[int, RegionSource]:
        bad = [r for r in v if r not in range(1, 6)]
        if bad:
            raise ValueError(f"regions are numbered 1-5, got {bad}")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    def region_source(self, region: int) -> RegionSource:
        src = self.regions.get(region, RegionSource())
        if src.url is None and src.path is None:
            src = RegionSource(path=self.data_dir / "directory" / f"region-{region}.sqlite3")
        return src


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Read settings; a bad config file or value becomes a ConfigError naming the field."""
    import os

    base = data_dir or Path(os.environ.get("IPKIOSK_DATA_DIR") or default_data_dir())
    file_values: dict[str, Any] = {}
    config_file = base / "config.toml"
    try:
        if config_file.is_file():
            file_values = TomlConfigSettingsSource(Settings, toml_file=config_file)()
        env = Settings()  # the IPKIOSK_* environment alone
        values = {
            **file_values,
            **{k: getattr(env, k) for k in env.model_fields_set},
            **{k: v for k, v in overrides.items() if v is not None},
            "data_dir": base,
        }
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"Bad setting '{where}' in {config_file} or IPKIOSK_*: {first['msg']}.") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {config_file}: {exc}.") from None
