"""Settings: defaults < DATA_DIR/config.toml < IPKIOSK_* environment < command-line flags.

Every value is checked when the settings are read, and every path is made absolute once, so a
bad value stops the kiosk at start-up with a ConfigError naming the setting and where it came
from, instead of misbehaving later (a timeout that never fires, a region silently left local).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError
from kiosk.config_checks import check_database_url, check_issuer_key, check_name, check_region_url, redact_url

ENV_PREFIX = "IPKIOSK_"

# The in-process keyring forgets its keys when the process ends: seeds written with them can
# never be decrypted again and the audit chain reads as broken. Only a test run may use it, and
# it says so by calling allow_memory_keyring() in its own process: no config file, environment
# variable or flag can turn this on.
_memory_keyring_allowed = False


def allow_memory_keyring(allowed: bool = True) -> None:
    """Tests only: let `keyring = "memory"` through in this process."""
    global _memory_keyring_allowed
    _memory_keyring_allowed = allowed


def memory_keyring_allowed() -> bool:
    return _memory_keyring_allowed


def absolute(path: Path, setting: str = "data_dir", base: Path | None = None) -> Path:
    """~ expanded and made absolute (symlinks resolved; a relative path taken inside `base`),
    once, at start-up. A path that cannot be resolved (a symlink loop, `~nouser/...`) is a
    ConfigError naming the setting."""
    try:
        expanded = path.expanduser()
        return (expanded if base is None else base / expanded).resolve()
    except (RuntimeError, OSError) as exc:  # Python < 3.13 raises RuntimeError for both
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(
            f"Bad setting '{setting}': the path {path} cannot be resolved ({reason}).",
            hint="Check for a symlink loop or an unknown user name after '~'.",
        ) from None


class RegionSource(BaseModel):
    """Where one region's directory lives: a local shard (default) or an online endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None  # NPPES Registry API v2.1 shaped endpoint
    path: Path | None = None  # SQLite shard; default DATA_DIR/directory/region-N.sqlite3

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_region_url(v)

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, v: object) -> object:
        if isinstance(v, str) and not v.strip():  # Path("") would be "." : the data dir itself
            raise ValueError("the shard path is empty; remove the line for the default")
        if isinstance(v, str) and "://" in v:
            # A URL in the file's place would be shown back as a missing file, user name and
            # password included: say where it goes instead, with the credentials hidden.
            raise ValueError(
                f"{redact_url(v)!r} is a URL, not a shard file; an online directory goes in `url` "
                "(its API key in the keyring), a local shard's file name in `path`"
            )
        return v


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
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # None: SQLite in data_dir; or postgresql://user@host/db
    kiosk_id: str = Field(default_factory=lambda: socket.gethostname()[:64])
    # IP-Auth-Stop-Binding-2.0: only a verified NPI may bind the iPrescribe Authenticator app.
    stop_binding: bool = True
    # Bounded and finite: inf, nan, 0 or a negative value would mean the idle wipe never fires;
    # below a second it wipes every session at once (the test suite runs it at 1-2 s).
    idle_timeout: Annotated[float, Field(ge=1, le=3600, allow_inf_nan=False)] = 120.0
    # Shorter than idle_timeout when set (checked below); the default shrinks to half a short timeout.
    idle_warning: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] = 20.0
    camera: str = "0"
    scan_timeout: Annotated[float, Field(ge=1, le=3600, allow_inf_nan=False)] = 60.0
    # Below 0.1 s no region answers in time: every provider would go to the Code Generator.
    region_timeout: Annotated[float, Field(ge=0.1, le=60, allow_inf_nan=False)] = 2.0
    regions: dict[int, RegionSource] = Field(default_factory=dict)
    # Enrollment-image issuers trusted by this kiosk: issuer name -> Ed25519 public key (PEM).
    issuers: dict[str, str] = Field(default_factory=dict)
    issuer_name: str = "ipkiosk"
    demo: bool = False
    keyring: Literal["system", "demo-file", "memory"] = "system"
    smtp: SmtpSettings | None = None
    # 1311.115(b): a token bound for a provider with EPCS permission needs a FIPS 140 certificate.
    epcs_require_fips: bool = True
    # The look for the person at the kiosk (F2 toggles contrast on any screen). A terminal cannot
    # enlarge its font: "large" makes every line bold and full-intensity; the glyph size is the
    # terminal's own font setting.
    theme: Literal["default", "high-contrast"] = "default"
    text_size: Literal["normal", "large"] = "normal"
    # The provider screens' language at the start of each session (the welcome screen offers the
    # other one); the IT staff area is English.
    language: Literal["en", "es"] = "en"

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, v: Path) -> Path:
        if not str(v).strip():
            raise ValueError("the data dir is empty")
        return absolute(v)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        return check_database_url(v)

    @field_validator("kiosk_id")
    @classmethod
    def _kiosk_id(cls, v: str) -> str:
        return check_name(v, "kiosk id")

    @field_validator("issuer_name")
    @classmethod
    def _issuer_name(cls, v: str) -> str:
        return check_name(v, "issuer name")

    @field_validator("issuers")
    @classmethod
    def _issuers(cls, v: dict[str, str]) -> dict[str, str]:
        return {name: check_issuer_key(name, pem) for name, pem in v.items()}

    @field_validator("camera", mode="before")
    @classmethod
    def _camera_index(cls, v: object) -> object:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v  # camera = 1 is a device index

    @field_validator("camera")
    @classmethod
    def _camera(cls, v: str) -> str:
        if not v.strip() or not v.isprintable():
            raise ValueError("give a device index (0), a video file or an image file")
        return v

    @field_validator("regions")
    @classmethod
    def _regions_1_to_5(cls, v: dict[int, RegionSource]) -> dict[int, RegionSource]:
        bad = [r for r in v if r not in range(1, 6)]
        if bad:
            raise ValueError(f"regions are numbered 1-5, got {bad}")
        return v

    @field_validator("keyring")
    @classmethod
    def _keyring(cls, v: str) -> str:
        if v == "memory" and not memory_keyring_allowed():
            raise ValueError(
                "'memory' is for the test suite only (its keys vanish when the kiosk stops, so seeds "
                "could never be read again); use 'system'"
            )
        return v

    @model_validator(mode="after")
    def _warning_before_timeout(self) -> Settings:
        if "idle_warning" in self.model_fields_set and self.idle_warning >= self.idle_timeout:
            raise ValueError(
                f"idle_warning: the warning ({self.idle_warning:g} s) must be shorter than "
                f"idle_timeout ({self.idle_timeout:g} s)"
            )
        return self

    @model_validator(mode="after")
    def _paths_absolute(self) -> Settings:
        # A relative shard path means "inside the data dir", wherever the kiosk was started.
        for region, src in self.regions.items():
            if src.path is not None:
                setting = f"regions.{region}.path"
                src.path = absolute(src.path, setting, base=self.data_dir)
                if src.path.is_dir():
                    raise ValueError(f"regions.{region}.path: {src.path} is a directory; give the shard's file name")
        return self

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


def _has_keys(annotation: Any) -> bool:
    """A setting made of keys (regions, issuers, smtp): only such a one takes IPKIOSK_NAME__KEY."""
    return any(
        get_origin(a) is dict or (isinstance(a, type) and issubclass(a, BaseModel))
        for a in (annotation, *get_args(annotation))
    )


def _unknown_env() -> list[str]:
    """IPKIOSK_* variables that name no setting (a typo would otherwise be ignored), and
    IPKIOSK_NAME__KEY for a plain value (IPKIOSK_DEMO__X was ignored as silently)."""
    fields = {name.upper(): _has_keys(f.annotation) for name, f in Settings.model_fields.items()}
    unknown = []
    for key in os.environ:
        if not key.upper().startswith(ENV_PREFIX):
            continue
        name, nested, _ = key[len(ENV_PREFIX) :].upper().partition("__")
        if name not in fields or (nested and not fields[name]):
            unknown.append(key)
    return sorted(unknown)


def _check_file_types(values: dict[str, Any], config_file: Path) -> None:
    """TOML has real booleans and numbers: a string there (stop_binding = "no", which pydantic
    would read as False) is a mistake to point out, not to interpret."""
    if "data_dir" in values:
        raise ConfigError(
            f"Bad setting 'data_dir' in {config_file}: the data dir cannot be set inside itself.",
            hint="Use --data-dir DIR or IPKIOSK_DATA_DIR.",
        )
    for key, value in values.items():
        field = Settings.model_fields.get(key)
        if field is None:
            continue
        if field.annotation is bool and not isinstance(value, bool):
            raise ConfigError(f"Bad setting '{key}' in {config_file}: write true or false (no quotes).")
        if field.annotation is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"Bad setting '{key}' in {config_file}: write a number of seconds (no quotes).")


def _message(error: Any) -> str:
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def _data_dir_from(data_dir: Path | None) -> Path:
    raw = data_dir if data_dir is not None else Path(os.environ.get("IPKIOSK_DATA_DIR") or default_data_dir())
    try:
        if not str(raw).strip():
            raise ConfigError("The data dir is empty; give --data-dir DIR.")
        base = absolute(raw)
        if base.exists() and not base.is_dir():
            raise ConfigError(f"The data dir {base} is a file, not a directory.", hint="Give --data-dir a directory.")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The data dir {raw} cannot be used: {getattr(exc, 'strerror', None) or exc}.") from None
    return base


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Read settings; a bad config file or value becomes a ConfigError naming the setting and
    where it was set (the file, the IPKIOSK_* variable, or the caller)."""
    base = _data_dir_from(data_dir)
    config_file = base / "config.toml"
    unknown = _unknown_env()
    if unknown:
        raise ConfigError(f"Unknown setting in the environment: {unknown[0]} (no such setting).")
    file_values: dict[str, Any] = {}
    env_keys: set[str] = set()
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        if config_file.exists():
            if not config_file.is_file():
                raise ConfigError(f"{config_file} is not a file.")
            file_values = TomlConfigSettingsSource(Settings, toml_file=config_file)()
            _check_file_types(file_values, config_file)
        try:
            env = Settings()  # the IPKIOSK_* environment alone
        except ValidationError as exc:
            raise _config_error(exc, lambda key: f"the environment ({ENV_PREFIX}{key.upper()})") from None
        except SettingsError as exc:  # a table-valued variable that is not JSON
            field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else "?"
            raise ConfigError(
                f"Bad setting '{field}' in the environment ({ENV_PREFIX}{field.upper()}): not valid JSON.",
                hint=f"Write it as JSON, or set one value with {ENV_PREFIX}{field.upper()}__KEY.",
            ) from None
        env_keys = set(env.model_fields_set)
        values = {**file_values, **{k: getattr(env, k) for k in env_keys}, **given, "data_dir": base}
        return Settings(**values)
    except ValidationError as exc:

        def source(key: str) -> str:
            if key in given:
                return "the command line"
            if key in env_keys:
                return f"the environment ({ENV_PREFIX}{key.upper()})"
            return str(config_file)

        raise _config_error(exc, source) from None
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"Cannot read {config_file}: {reason}.") from None


def _config_error(exc: ValidationError, source: Any) -> ConfigError:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    message = _message(first)
    if not loc:  # a check across settings names its setting first: "regions.2.path: ..."
        head, _, message = message.partition(": ")
        loc = head.split(".")
    return ConfigError(f"Bad setting '{'.'.join(loc)}' in {source(loc[0])}: {message}.")
