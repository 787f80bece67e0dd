"""The identity proofing record kept before binding (21 CFR 1311.105, 1311.110(a)).

Guided setup records which ID document IT staff checked, its last four characters (never the
whole number: the kiosk is no copy of anyone's passport), who checked it and when; or, for a
prescriber proofed individually by a credential service provider, that provider's transaction
reference. An EPCS grant needs a record older than the factor it relies on, so the credential
was issued to a person already proofed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from core.accounts import Role
from core.errors import ProofingRefused
from core.events import Event, Outcome
from core.schema import identity_proofing

if TYPE_CHECKING:
    from core.system import KioskSystem

LAST4_RE = re.compile(r"^[A-Z0-9]{4}$")
CSP_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{3,127}$")


class DocumentType(StrEnum):
    # NIST SP 800-63A strong evidence a clinic can check at the desk.
    PASSPORT = "passport"
    DRIVERS_LICENSE = "drivers_license"
    STATE_ID = "state_id"
    MILITARY_ID = "military_id"
    PERMANENT_RESIDENT_CARD = "permanent_resident_card"


@dataclass(frozen=True)
class ProofingRecord:
    username: str
    document_type: str | None
    last4: str | None
    csp_reference: str | None
    checked_by: str
    checked_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_type": self.document_type,
            "last4": self.last4,
            "csp_reference": self.csp_reference,
            "checked_by": self.checked_by,
            "checked_at": datetime.fromtimestamp(self.checked_at, tz=UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
        }

    @property
    def summary(self) -> str:
        if self.csp_reference:
            return f"csp_reference={self.csp_reference}"
        return f"document={self.document_type} last4={self.last4}"


class IdentityProofing:
    def __init__(self, system: KioskSystem) -> None:
        self.system = system

    def record(
        self,
        username: str,
        checked_by: str,
        *,
        document_type: str | None = None,
        last4: str | None = None,
        csp_reference: str | None = None,
    ) -> ProofingRecord:
        """Store one check, with its audit row, in one transaction. `checked_by` must already be
        known to be the IT staff member at the desk (signed in by the caller)."""
        subject = self.system.accounts.get(username)
        checker = self.system.accounts.get(checked_by)
        if subject is None:
            raise ProofingRefused(f"No account named '{username}'.", "Check the username (`ipkiosk users list`).")
        if checker is None or checker.role is not Role.IT_STAFF:
            raise ProofingRefused(f"'{checked_by}' is not IT staff; IT staff check ID documents.", "")
        if checker.username == subject.username:
            raise ProofingRefused("Nobody may record the check of their own ID.", "Ask a colleague in IT.")
        doc, tail, ref = _checked_values(document_type, last4, csp_reference)
        now = self.system.clock.time()
        record = ProofingRecord(subject.username, doc, tail, ref, checker.username, now)
        with self.system.store.begin() as conn:
            conn.execute(
                identity_proofing.insert().values(
                    username=subject.username,
                    document_type=doc,
                    last4=tail,
                    csp_reference=ref,
                    checked_by=checker.username,
                    checked_at=now,
                )
            )
            self.system.audit.record(
                conn,
                Event.IDENTITY_PROOFED,
                actor=checker.username,
                subject=subject.username,
                outcome=Outcome.OK,
                detail=record.summary,
            )
        return record

    def record_signed(
        self, username: str, checked_by: str, password: str, code: str | None, **check: str | None
    ) -> ProofingRecord:
        """The IT staff member signs (password, and code once a factor is bound), then records."""
        checker = self.system.accounts.get(checked_by)
        if checker is None or checker.role is not Role.IT_STAFF:
            raise ProofingRefused(f"'{checked_by}' is not IT staff; IT staff check ID documents.", "")
        _checked_values(check.get("document_type"), check.get("last4"), check.get("csp_reference"))  # before a sign-in
        self.system.epcs.sign(checker.username, password, code, need_token=False)
        return self.record(username, checker.username, **check)

    def latest(self, username: str, conn: Connection | None = None) -> ProofingRecord | None:
        q = (
            select(identity_proofing)
            .where(identity_proofing.c.username == self.system.accounts.normalize_username(username))
            .order_by(identity_proofing.c.checked_at.desc(), identity_proofing.c.id.desc())
            .limit(1)
        )
        if conn is None:
            with self.system.store.connect() as c:
                row = c.execute(q).first()
        else:
            row = conn.execute(q).first()
        if row is None:
            return None
        return ProofingRecord(
            row.username, row.document_type, row.last4, row.csp_reference, row.checked_by, row.checked_at
        )


def _checked_values(
    document_type: str | None, last4: str | None, csp_reference: str | None
) -> tuple[str | None, str | None, str | None]:
    if csp_reference:
        if document_type or last4:
            raise ProofingRefused("Give either the document checked or the CSP reference, not both.")
        ref = csp_reference.strip()
        if not CSP_REF_RE.match(ref):
            raise ProofingRefused("A CSP transaction reference is 4-128 letters, digits and . _ : / -.")
        return None, None, ref
    if not document_type or not last4:
        raise ProofingRefused("Give the document type checked and its last four characters.")
    try:
        doc = DocumentType(document_type.strip().lower())
    except ValueError:
        kinds = ", ".join(d.value for d in DocumentType)
        raise ProofingRefused(f"'{document_type}' is not a document type the kiosk knows ({kinds}).") from None
    tail = last4.strip().replace(" ", "").upper()
    if len(tail) > 4:
        # Refused rather than cut: the whole number must never reach the store, not even once.
        raise ProofingRefused("Type only the last four characters of the document number, not the whole number.")
    if not LAST4_RE.match(tail):
        raise ProofingRefused("The last four characters of the document number are letters or digits.")
    return doc.value, tail, None
