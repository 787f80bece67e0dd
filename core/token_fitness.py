"""Tokens fit for EPCS (21 CFR 1311.115(b)): a hard token's cryptographic module is FIPS 140
validated, and the inventory says which certificate.

IT records each token's vendor, model (PSKC DeviceInfo fills them on import) and FIPS 140
certificate number. With `epcs_require_fips` on (the default), a hardware token without a
certificate cannot be bound to a provider whose EPCS permission is pending or granted: the
permission would rest on a device nobody checked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import Connection, update

from core.epcs_state import ACTIVE
from core.errors import TokenNotFitForEpcs
from core.events import Event, Outcome
from core.schema import tokens
from core.serials import normalize_serial
from core.token_model import Method, TokenInfo

if TYPE_CHECKING:
    from core.system import KioskSystem

# CMVP certificate numbers ("#4282" or "4282"); DEMO marks the demo's tokens, never a real one.
FIPS_CERT_RE = re.compile(r"^#?(\d{1,6})$")
DEMO_FIPS_CERT = "DEMO"


def check_fips_cert(text: str) -> str:
    value = text.strip().upper()
    if value == DEMO_FIPS_CERT:
        return value
    match = FIPS_CERT_RE.match(value)
    if not match:
        raise TokenNotFitForEpcs(
            f"'{text}' is not a FIPS 140 certificate number (digits, as in the CMVP listing: e.g. 4282).", ""
        )
    return match.group(1)


class TokenFitness:
    def __init__(self, system: KioskSystem) -> None:
        self.system = system

    def describe(
        self,
        serial: str,
        actor: str,
        *,
        vendor: str | None = None,
        model: str | None = None,
        fips_cert: str | None = None,
    ) -> TokenInfo:
        """Set what IT knows about the device; audited with the values (none of them secret)."""
        info = self.system.tokens.get(serial)
        if info is None:
            raise TokenNotFitForEpcs(f"No token with serial number {normalize_serial(serial)}.", "")
        values: dict[str, str] = {}
        for name, value in (("vendor", vendor), ("model", model)):
            if value is not None:
                text = " ".join(value.split())
                if not text or len(text) > 100 or not text.isprintable():
                    raise TokenNotFitForEpcs(f"The {name} is 1-100 printable characters.", "")
                values[name] = text
        if fips_cert is not None:
            values["fips_cert"] = check_fips_cert(fips_cert)
        if not values:
            raise TokenNotFitForEpcs("Give --vendor, --model or --fips-cert.", "")
        with self.system.store.begin() as conn:
            self.set_device(conn, info.serial, **values)
            detail = " ".join(f"{k}={v}" for k, v in values.items())
            self.system.audit.record(
                conn, Event.TOKEN_DESCRIBED, actor=actor, subject=info.owner or "-", outcome=Outcome.OK,
                method=info.method.value, serial=info.serial, detail=detail,
            )  # fmt: skip
            updated = self.system.tokens.get(info.serial, conn)
        assert updated is not None
        return updated

    @staticmethod
    def set_device(conn: Connection, serial: str, **values: str) -> None:
        conn.execute(update(tokens).where(tokens.c.serial == normalize_serial(serial)).values(**values))

    def check_binding(self, conn: Connection, serial: str, username: str) -> None:
        """Called where a hardware token is bound or assigned, inside that transaction."""
        if not self.system.policy.epcs_require_fips:
            return
        info = self.system.tokens.get(serial, conn)
        if info is None or info.method is not Method.CODE_GENERATOR or info.fips_cert:
            return
        if self.system.epcs.get(username, conn).state in ACTIVE:
            raise TokenNotFitForEpcs(
                f"Token {info.serial} has no FIPS 140 certificate on record, and {username} may sign "
                "controlled-substance prescriptions (EPCS), which needs a FIPS 140 validated token."
            )
