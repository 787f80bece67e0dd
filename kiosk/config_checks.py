"""Checks on single setting values: each returns the value or raises ValueError saying what is
wrong, in words an IT person can act on. A message never repeats a password found in a URL."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

# Cloud instance-metadata endpoints: a region URL pointing there would send the region's API key
# (and the NPI asked about) to whatever answers on the instance.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
MAX_NAME = 64  # the store's column width for kiosk ids and issuer names


def redact_url(url: str) -> str:
    """The URL with any user name and password replaced by '***', for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable URL)"
    if parts.username is None and parts.password is None:
        return url
    if ":" in host:
        host = f"[{host}]"
    return SplitResult(parts.scheme, f"***@{host}{port}", parts.path, parts.query, "").geturl()


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host string names literally, including the forms the C resolver
    accepts (2852039166, 0xA9.254.169.254, 0251.0376.0251.0376), else None for a DNS name."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        try:
            addr = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def check_region_url(url: str) -> str:
    """An online region: https (plain http only to this machine), no credentials in the URL,
    never a link-local or cloud-metadata address."""
    shown = redact_url(url)
    if not url.strip():
        raise ValueError("the region URL is empty; remove the line to keep the region local")
    if url != url.strip() or any(not c.isprintable() or c.isspace() for c in url):
        raise ValueError(f"the region URL {shown!r} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        _ = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError:
        # urllib's reason quotes the netloc it choked on: a password with '/', '?' or '#' in it.
        raise ValueError(f"the region URL {shown!r} cannot be read (a malformed host or port)") from None
    if parts.scheme not in ("https", "http"):
        raise ValueError(f"the region URL {shown!r} must start with https://")
    if not host:
        raise ValueError(f"the region URL {shown!r} has no host name")
    if not host.isascii():
        raise ValueError(f"the region URL {shown!r} must name its host in ASCII (punycode)")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"the region URL {shown!r} carries a user name or password; store the region's API key "
            "with `ipkiosk credentials set` instead"
        )
    addr = _address(host)
    if host in METADATA_HOSTS or (addr is not None and addr in METADATA_ADDRESSES):
        raise ValueError(f"the region URL {shown!r} points at a cloud metadata service")
    if addr is not None and addr.is_link_local:
        raise ValueError(f"the region URL {shown!r} points at a link-local address")
    loopback = host in LOOPBACK_NAMES or (addr is not None and addr.is_loopback)
    if parts.scheme == "http" and not loopback:
        raise ValueError(
            f"the region URL {shown!r} uses plain http; use https (plain http is allowed only to localhost)"
        )
    return url


def check_database_url(url: str | None) -> str | None:
    """None (SQLite in the data dir), a SQLite file URL or a PostgreSQL URL (psycopg)."""
    if url is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not url.strip():
        raise ValueError("empty; leave database_url out to keep the store in the data dir")
    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL; write postgresql://USER@HOST/DBNAME") from None
    shown = u.render_as_string(hide_password=True)
    backend = u.get_backend_name()
    if backend == "sqlite":
        if u.drivername != "sqlite" or not u.database or u.database == ":memory:":
            raise ValueError(f"{shown!r}: a SQLite store must be a file (sqlite:////path/kiosk.sqlite3)")
        if not u.database.startswith("/"):
            # Relative to the working directory: a different, empty store in every folder the
            # kiosk is started from, and the tokens and accounts seem lost.
            raise ValueError(
                f"{shown!r}: give the SQLite file's absolute path, with four slashes "
                "(sqlite:////path/kiosk.sqlite3), or leave database_url out for the data dir"
            )
    elif backend == "postgresql":
        if u.drivername not in ("postgresql", "postgresql+psycopg"):
            raise ValueError(f"{shown!r}: use postgresql:// or postgresql+psycopg:// (the psycopg driver)")
        if not u.host and not u.query.get("host"):
            raise ValueError(f"{shown!r} names no host")
    else:
        raise ValueError(f"{shown!r}: only PostgreSQL (postgresql://...) or SQLite is supported, not {backend}")
    return url


def check_name(text: str, what: str) -> str:
    """Kiosk ids and issuer names: 1-64 printable ASCII characters, no surrounding spaces."""
    if not text:
        raise ValueError(f"the {what} is empty")
    if len(text) > MAX_NAME:
        raise ValueError(f"the {what} is {len(text)} characters long; at most {MAX_NAME}")
    if not (text.isascii() and text.isprintable()) or text.strip() != text:
        raise ValueError(f"the {what} must be printable ASCII without leading or trailing spaces")
    return text


def check_issuer_key(name: str, pem: str) -> str:
    """An [issuers] entry: an Ed25519 public key in PEM, as `ipkiosk cronto public-key` prints."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    check_name(name, "issuer name")
    hint = "paste the output of `ipkiosk cronto public-key` from the issuing kiosk"
    if not pem.isascii():
        raise ValueError(f"issuer {name!r}: the key is not a PEM text; {hint}")
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError):
        raise ValueError(f"issuer {name!r}: not a PEM public key; {hint}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"issuer {name!r}: the key is {type(key).__name__}, not Ed25519; {hint}")
    return pem
