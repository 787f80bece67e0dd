"""IT operations for EPCS (21 CFR 1311): the ID check recorded before binding, the two-person
signing permission, and what IT records about a token's cryptographic module.

The rules live in core.epcs, core.proofing and core.token_fitness, which write the audit rows
(the signer as actor); this part adds who may reach them, so `ipkiosk epcs`, `ipkiosk users
proof` and the IT screens go through one door and leave the same rows.
"""

from __future__ import annotations

from typing import Any

from core.admin_base import AdministrationBase, Signature
from core.epcs_state import Permission, RoleHolder
from core.errors import NotAllowed
from core.proofing import ProofingRecord
from core.tokens import TokenInfo


class EpcsAdministration(AdministrationBase):
    # -- reading ---------------------------------------------------------------------------

    def epcs_overview(self) -> list[dict[str, Any]]:
        """Each provider's permission with their DEA number and latest ID check."""
        self._authorized()
        return self.system.epcs.overview()

    def epcs_roles(self) -> list[RoleHolder]:
        """Who holds the entry role (IT staff) and the approval role (DEA registrants)."""
        self._authorized()
        return self.system.epcs.roles()

    # -- the ID check ----------------------------------------------------------------------

    def record_id_check(
        self,
        username: str,
        *,
        document_type: str | None = None,
        last4: str | None = None,
        csp_reference: str | None = None,
        signature: Signature | None = None,
    ) -> ProofingRecord:
        """The ID document checked (type and last four) or the CSP's reference. In the IT staff
        area the signed-in staff member is the checker; from the command line the checker names
        themselves and signs, since nothing else says who stood at the desk."""
        self._authorized()
        check = {"document_type": document_type, "last4": last4, "csp_reference": csp_reference}
        if signature is not None:
            signer = self._signer(signature)
            return self.system.proofing.record_signed(username, signer.username, signer.password, signer.code, **check)
        if self.signed_in is None:
            raise NotAllowed(
                "The IT staff member who checked the ID signs the record.",
                "Name them with --by; their password and code go on stdin.",
            )
        return self.system.proofing.record(username, self.actor, **check)

    # -- the signing permission: one person enters, a second approves ----------------------

    def grant_epcs(self, provider: str, signature: Signature) -> Permission:
        """IT staff enter a grant, signing it; it waits for a DEA registrant's approval."""
        self._authorized()
        signer = self._signer(signature)
        return self.system.epcs.grant(provider, signer.username, signer.password, signer.code or None)

    def approve_epcs(self, provider: str, signature: Signature) -> Permission:
        """The approver is a second person (a DEA registrant) who signs here with their own
        token code, so the signer is not the one signed in."""
        self._authorized()
        return self.system.epcs.approve(provider, signature.username, signature.password, signature.code or "")

    def revoke_epcs(self, provider: str, signature: Signature, reason: str) -> Permission:
        self._authorized()
        signer = self._signer(signature)
        return self.system.epcs.revoke(provider, signer.username, signer.password, signer.code or None, reason)

    # -- the token's module (1311.115(b)) --------------------------------------------------

    def describe_token(
        self, serial: str, *, vendor: str | None = None, model: str | None = None, fips_cert: str | None = None
    ) -> TokenInfo:
        self._authorized()
        return self.system.token_fitness.describe(serial, self.actor, vendor=vendor, model=model, fips_cert=fips_cert)
