"""Who is acting in an IT operation, and whether they may: what every part of Administration shares.

The IT staff area acts as the staff member who signed in with their own bound factor; `ipkiosk`
acts as `cli:<os user>`. The check is made when the front end builds its Administration (from
the sign-in, without a store round trip on the UI thread) and again inside every operation,
against the store: a factor revoked since the sign-in ends the staff member's rights at once.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field

from sqlalchemy import Connection

from core.accounts import Role
from core.errors import AdminError, KioskError, NotAllowed, TokenLocked, TokenNotFound, TokenUnavailable
from core.events import Event, Outcome
from core.serials import normalize_serial
from core.signin import SignedIn
from core.system import KioskSystem
from core.tokens import TokenInfo


def cli_actor() -> str:
    """Who ran an admin command, for the audit trail: the OS account at the terminal."""
    try:
        name = getpass.getuser()
    except Exception:
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


def staff_refusal(role: Role | None, bound_factor: bool) -> NotAllowed | None:
    """Why someone may not administer (None: they may). Only IT staff with their own bound
    factor: a password alone must not open the operations that hand out and take away other
    people's factors."""
    if role is not Role.IT_STAFF:
        return NotAllowed("This area is for IT staff only.", "Sign in with an IT staff account.")
    if not bound_factor:
        return NotAllowed(
            "IT staff need their own bound token to open this area.",
            "Ask another IT staff member to bind one for you.",
        )
    return None


# The token refusals' hints speak to the provider at step 6 ("Ask IT staff for another
# token."); IT staff assigning a token are told what they can do themselves.
_STAFF_HINTS: dict[type[KioskError], str] = {
    TokenNotFound: "Check the serial in the inventory, or import the vendor's seed file first.",
    TokenUnavailable: "Choose another token from the inventory; a revoked token cannot be assigned again.",
    TokenLocked: "Unlock the token first, or choose another one.",
}


def for_staff(error: KioskError) -> KioskError:
    """`error` with the hint for IT staff, when it has one."""
    hint = _STAFF_HINTS.get(type(error))
    return error if hint is None else type(error)(error.template, hint, params=error.params)


@dataclass(frozen=True)
class Signature:
    """A person signing one change now with their password and code (21 CFR 1311: both factors
    again, not the sign-in of an hour ago). Neither secret is ever shown in a repr."""

    username: str
    password: str = field(repr=False)
    code: str | None = field(default=None, repr=False)


@dataclass
class AdministrationBase:
    system: KioskSystem
    actor: str
    # The IT staff member's sign-in when built by `for_staff`; None for `for_cli` (and tests).
    signed_in: SignedIn | None = None

    def _authorized(self) -> None:
        """The staff member is still IT staff with a bound factor (the CLI: nothing to check)."""
        if self.signed_in is None:
            return
        account = self.system.accounts.get(self.signed_in.account.username)
        with self.system.store.connect() as conn:
            bound = account is not None and bool(self.system.tokens.factors(conn, account.username))
        refusal = staff_refusal(account.role if account is not None else None, bound)
        if refusal is not None:
            raise refusal

    def _signer(self, signature: Signature) -> Signature:
        """In the IT staff area the one who signs is the one signed in: nobody enters or revokes
        a permission under a colleague's name from a session that is not theirs."""
        if self.signed_in is not None:
            name = self.system.accounts.normalize_username(signature.username)
            if name != self.actor:
                raise NotAllowed(
                    f"Signed in as {self.actor}, you sign with your own password and code, not {name}'s.",
                    f"Ask {name} to sign in to the IT staff area themselves.",
                )
        return signature

    def _token(self, serial: str) -> TokenInfo:
        info = self.system.tokens.get(serial)
        if info is None:
            raise TokenNotFound(f"No token with serial number {normalize_serial(serial)}.")
        return info

    def _account(self, username: str) -> str:
        account = self.system.accounts.get(username)
        if account is None:
            raise AdminError(f"No account named '{username}'.")
        return account.username

    def _audit(
        self,
        conn: Connection | None,
        event: Event,
        subject: str | None,
        token: TokenInfo | None = None,
        *,
        outcome: str = Outcome.OK,
        detail: str = "",
    ) -> None:
        """One audit row with this IT staff member as actor; in `conn`'s transaction, or in
        one of its own when the change it describes was rolled back (conn None)."""
        fields = {
            "actor": self.actor,
            "subject": subject or "-",
            "outcome": outcome,
            "method": token.method.value if token else "",
            "serial": token.serial if token else "",
            "detail": detail,
        }
        if conn is None:
            self.system.audit.log(event, **fields)
        else:
            self.system.audit.record(conn, event, **fields)

    def _now(self, conn: Connection, serial: str) -> TokenInfo:
        updated = self.system.tokens.get(serial, conn)
        assert updated is not None  # read inside the transaction that just wrote it
        return updated
