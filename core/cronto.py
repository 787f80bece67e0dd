"""The cronto image: a QR code carrying a signed enrollment token.

Real Cronto is a proprietary colour cryptogram; here the image is a QR code whose payload is a
JWS compact token signed with Ed25519 (RFC 8037 / RFC 9864: `alg` "Ed25519"; the older generic
"EdDSA" is accepted from other issuers), claims `iss`, `sub` (username), `npi`, `jti`, `iat`,
`exp`. `CrontoIssuer` makes tokens and images; `CrontoVerifier` checks a scanned payload and
remembers each accepted `jti` until its `exp`, so an image works once.

A token is a bearer credential until it is used: it never appears in full in an error, a log or
the audit (`token_ref` gives a short, safe reference instead).
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OKPKey
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.errors import N_, CrontoRejected, InvalidNPI
from core.npi import validate_npi
from core.schema import cronto_jti
from core.store import Store

SIGNING_ALG = "Ed25519"
# "EdDSA" is the pre-RFC 9864 name for the same signature; other issuers may still use it.
ACCEPTED_ALGS = ("Ed25519", "EdDSA")
MAX_PAYLOAD = 2048  # a real token is ~350 characters; anything far bigger is not ours
MAX_JTI = 128  # the cronto_jti.jti column
MAX_SUB = 64  # the cronto_jti.username column, as every username column
# Times are Unix seconds between 1970 and the end of year 9999: beyond that a claim is not a
# date any issuer means, and floats, SQL columns and datetime would overflow on it.
MAX_TIME = 253_402_300_799
# No image is meant to stay valid for longer than this; one that does is not ours.
MAX_LIFETIME = 10 * 366 * 86400
# Issuer and kiosk clocks differ a little; a token issued "in the future" by less than this
# is accepted rather than sending the provider away.
CLOCK_LEEWAY = 60.0

_CLAIMS = ("iss", "sub", "npi", "jti", "iat", "exp")

# One plain-words message and next step per refusal; screens show them as they are.
REFUSALS: dict[str, tuple[str, str]] = {
    "not_our_format": (
        N_("This is not an iPrescribe enrollment image."),
        N_(
            "Hold up the enrollment image your administrator gave you (not another QR code). "
            "If it is the right image, ask your administrator for a new one."
        ),
    ),
    "bad_signature": (
        N_("This enrollment image has been altered or was not signed by a trusted issuer."),
        N_("Do not use this image. Ask your administrator for a new enrollment image."),
    ),
    "unknown_issuer": (
        N_("This enrollment image comes from an issuer this kiosk does not trust."),
        N_(
            "Ask IT staff to add the issuer's public key to the kiosk, or ask your administrator "
            "for an image from your organization's issuer."
        ),
    ),
    "expired": (
        N_("This enrollment image has expired."),
        N_("Ask your administrator for a new enrollment image."),
    ),
    "not_yet_valid": (
        N_("This enrollment image is not valid yet."),
        N_("Check that the kiosk's date and time are right (IT staff), or try again later."),
    ),
    "already_used": (
        N_("This enrollment image has already been used."),
        N_("Each enrollment image works once. Ask your administrator for a new enrollment image."),
    ),
    "other_user": (
        N_("This enrollment image belongs to a different user."),
        N_("Sign in as the provider named on the image, or ask your administrator for your own enrollment image."),
    ),
}

REASONS: tuple[str, ...] = tuple(REFUSALS)


# The refusal's message with its detail in brackets: the screens translate both parts.
WITH_DETAIL = N_("{message} ({detail})")


def refuse(reason: str, detail: str | None = None, **names: str) -> CrontoRejected:
    """The typed refusal for `reason`; `detail` (never token text) refines the message. `detail`
    is a marked template; `names` fill it (a claim's name, shown as it is in every language)."""
    message, hint = REFUSALS[reason]
    if detail:
        return CrontoRejected(WITH_DETAIL, reason, hint, params={"message": message, "detail": detail, **names})
    return CrontoRejected(message, reason, hint)


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def looks_like_enrollment_token(payload: str) -> bool:
    """Cheap shape check (three base64url parts) so a camera can ignore other QR codes in view
    without a refusal for each; the real checks are CrontoVerifier's."""
    if not payload.isascii() or len(payload) > MAX_PAYLOAD:
        return False
    parts = payload.strip().split(".")
    return len(parts) == 3 and all(p and set(p) <= _B64URL for p in parts)


def token_ref(payload: str) -> str:
    """A short reference safe for logs: a hash prefix, never token text."""
    return "sha256:" + hashlib.sha256(payload.encode("utf-8", "replace")).hexdigest()[:12]


@dataclass(frozen=True)
class EnrollmentClaims:
    iss: str
    sub: str
    npi: str
    jti: str
    iat: int
    exp: int
    nbf: int | None = None  # optional "not before" (RFC 7519 4.1.5)

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        if self.nbf is None:
            del doc["nbf"]
        return doc


def _ed25519_private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the issuer key is not an Ed25519 private key")
    return key


def _ed25519_public(pem: bytes) -> OKPKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the issuer public key is not an Ed25519 key")
    return OKPKey.import_key(pem)


class CrontoIssuer:
    """Signs enrollment tokens and draws them as QR images."""

    def __init__(self, name: str, private_key_pem: bytes) -> None:
        if not name or not name.isascii():
            raise ValueError("the issuer name must be non-empty ASCII")
        self.name = name
        self._private = _ed25519_private(private_key_pem)
        self._key = OKPKey.import_key(private_key_pem)

    @classmethod
    def generate(cls, name: str) -> CrontoIssuer:
        return cls(name, cls.new_private_key_pem())

    @staticmethod
    def new_private_key_pem() -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def private_key_pem(self) -> bytes:
        """For storing the key in the keyring; never print or log it."""
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_key_pem(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def make_token(
        self,
        username: str,
        npi: str,
        expires_in: timedelta,
        clock: Clock,
        *,
        jti: str | None = None,
        issued_at: float | None = None,
    ) -> str:
        """A signed token for `username`; `jti` and `issued_at` exist for tests and tooling."""
        if expires_in < timedelta(seconds=1):
            raise ValueError("expires_in must be at least one second")
        if not username.isascii() or not username:
            raise ValueError("the username must be non-empty ASCII")
        iat = int(clock.time() if issued_at is None else issued_at)
        claims = {
            "iss": self.name,
            "sub": username,
            "npi": npi,
            "jti": jti or secrets.token_urlsafe(16),
            "iat": iat,
            "exp": iat + int(expires_in.total_seconds()),
        }
        body = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("ascii")
        header = {"alg": SIGNING_ALG, "typ": "JWT"}
        return jws.serialize_compact(header, body, self._key, algorithms=[SIGNING_ALG])

    @staticmethod
    def make_image(token: str) -> bytes:
        return make_image(token)


def make_image(token: str, *, scale: int = 10, border: int = 4) -> bytes:
    """The cronto image: a PNG QR code of `token`.

    Error correction M with a 4-module quiet zone and 10 px modules: a ~350-character token
    gives a ~0.8-megapixel image a webcam reads from arm's length on a screen or on paper.
    """
    import segno

    qr = segno.make_qr(token, error="m", boost_error=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


class CrontoVerifier:
    """Checks scanned payloads against the trusted issuers' public keys.

    `check` validates without using the image up; `consume` records its `jti` inside the
    caller's transaction (so the enrollment step and the jti commit together); `verify` does
    both in a transaction of its own.
    """

    def __init__(self, issuers: Mapping[str, bytes | str], clock: Clock, store: Store) -> None:
        self._keys: dict[str, OKPKey] = {}
        for name, pem in issuers.items():
            raw = pem.encode("ascii") if isinstance(pem, str) else pem
            self._keys[name] = _ed25519_public(raw)
        self.clock = clock
        self.store = store

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def check(self, payload: str, expected_user: str | None) -> EnrollmentClaims:
        """The verified claims, or CrontoRejected; the image stays usable.

        `expected_user` None skips only the ownership check (`ipkiosk cronto decode`).
        """
        claims = self._verified_claims(payload)
        self._check_time(claims)
        if expected_user is not None and claims.sub != expected_user:
            raise refuse("other_user")
        with self.store.connect() as conn:
            seen = conn.execute(select(cronto_jti.c.jti).where(cronto_jti.c.jti == claims.jti)).first()
        if seen is not None:
            raise refuse("already_used")
        return claims

    def consume(self, claims: EnrollmentClaims, conn: Connection) -> None:
        """Use the image up, inside the caller's transaction; a second use -> already_used."""
        now = self.clock.time()
        if claims.exp <= now:
            raise refuse("expired")
        # Forgetting a jti at its exp is safe: the token it belongs to is refused as expired.
        conn.execute(delete(cronto_jti).where(cronto_jti.c.exp <= now))
        # A savepoint keeps the caller's transaction usable after a duplicate key (PostgreSQL
        # aborts the whole transaction on an error otherwise).
        try:
            with conn.begin_nested():
                row = {"jti": claims.jti, "exp": float(claims.exp), "username": claims.sub}
                conn.execute(insert(cronto_jti).values(**row))
        except IntegrityError:
            raise refuse("already_used") from None

    def verify(self, payload: str, expected_user: str) -> EnrollmentClaims:
        """`check` then `consume` in one transaction of the store."""
        claims = self.check(payload, expected_user)
        with self.store.begin() as conn:
            self.consume(claims, conn)
        return claims

    def purge_expired(self) -> int:
        with self.store.begin() as conn:
            result = conn.execute(delete(cronto_jti).where(cronto_jti.c.exp <= self.clock.time()))
        return int(result.rowcount or 0)

    # -- the checks, in the order a forged or mistaken image is most usefully explained --

    def _verified_claims(self, payload: str) -> EnrollmentClaims:
        if not isinstance(payload, str) or not payload.isascii() or len(payload) > MAX_PAYLOAD:
            raise refuse("not_our_format")
        text = payload.strip()
        if text.count(".") != 2:
            raise refuse("not_our_format")
        try:
            unverified = jws.extract_compact(text.encode("ascii"))
            header = unverified.headers()
            body = json.loads(unverified.payload)
        except (JoseError, ValueError, TypeError, RecursionError):  # RecursionError: "[[[[..." bodies
            raise refuse("not_our_format") from None
        if header.get("alg") not in ACCEPTED_ALGS or not isinstance(body, dict):
            raise refuse("not_our_format")
        # The unverified issuer name only picks the key; nothing else is trusted before the
        # signature checks out.
        iss = body.get("iss")
        if not isinstance(iss, str):
            raise refuse("not_our_format")
        key = self._keys.get(iss)
        if key is None:
            raise refuse("unknown_issuer")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SecurityWarning)
                jws.deserialize_compact(text, key, algorithms=list(ACCEPTED_ALGS))
        except JoseError:
            raise refuse("bad_signature") from None
        return _claims_from(body)

    def _check_time(self, claims: EnrollmentClaims) -> None:
        now = self.clock.time()
        if claims.exp <= now:
            raise refuse("expired")
        if claims.iat > now + CLOCK_LEEWAY or (claims.nbf is not None and claims.nbf > now + CLOCK_LEEWAY):
            raise refuse("not_yet_valid")


def _time_claim(body: dict[str, Any], name: str) -> int:
    value = body[name]
    # bool is an int in Python; a JSON true is not a time (nor is 1e309, which json reads as inf).
    if not isinstance(value, int) or isinstance(value, bool):
        raise refuse("not_our_format", N_("the time claim {name} is not a whole number"), name=name)
    if not 0 <= value <= MAX_TIME:
        raise refuse("not_our_format", N_("the time claim {name} is not a date before the year 10000"), name=name)
    return value


def _string_claim(body: dict[str, Any], name: str, limit: int) -> str:
    value = body[name]
    if not isinstance(value, str) or not value:
        raise refuse("not_our_format", N_("a claim has the wrong type"))
    # Claims are printed by `ipkiosk cronto decode`: no terminal escapes, nothing unbounded.
    if not value.isascii() or not value.isprintable():
        raise refuse("not_our_format", N_("the claim {name} has characters that are not printable"), name=name)
    if len(value) > limit:
        raise refuse("not_our_format", N_("the claim {name} is too long"), name=name)
    return value


def _claims_from(body: dict[str, Any]) -> EnrollmentClaims:
    """Typed, bounded claims from a signed body; a signed but malformed body is still not ours."""
    missing = [c for c in _CLAIMS if c not in body]
    if missing:
        raise refuse("not_our_format", N_("missing {claims}"), claims=", ".join(missing))
    for c in ("iss", "sub", "npi", "jti"):
        if not isinstance(body[c], str) or not body[c]:
            raise refuse("not_our_format", N_("a claim has the wrong type"))
    iss = _string_claim(body, "iss", MAX_PAYLOAD)
    sub = _string_claim(body, "sub", MAX_SUB)
    npi = _string_claim(body, "npi", 32)
    jti = _string_claim(body, "jti", MAX_JTI)
    iat = _time_claim(body, "iat")
    exp = _time_claim(body, "exp")
    nbf = _time_claim(body, "nbf") if "nbf" in body else None
    if exp <= iat:
        raise refuse("not_our_format", N_("it expires before it was issued"))
    if exp - iat > MAX_LIFETIME:
        raise refuse("not_our_format", N_("it is valid for more than ten years"))
    if nbf is not None and nbf >= exp:
        raise refuse("not_our_format", N_("it expires before it becomes valid"))
    try:
        validate_npi(npi)
    except InvalidNPI:
        raise refuse("not_our_format", N_("the NPI in it is not a valid NPI")) from None
    return EnrollmentClaims(iss=iss, sub=sub, npi=npi, jti=jti, iat=iat, exp=exp, nbf=nbf)
