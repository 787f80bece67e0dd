"""What IT staff look at: the token inventory, what is locked, the audit trail, the outbox.

Reading is also an IT operation: the inventory names every provider's token and the audit trail
every sign-in, so the IT screens and `ipkiosk` reach them through the same door as the changes
(`_authorized` again on each call: a staff member whose factor was revoked sees nothing more).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.accounts import Account
from core.admin_base import AdministrationBase
from core.audit import AuditRow, ChainReport
from core.notifications import FlushReport, Notice, Sender
from core.token_model import TokenState
from core.tokens import TokenInfo


class LockedKind(StrEnum):
    TOKEN = "token"  # noqa: S105 (a kind of thing that locks, not a secret)
    ACCOUNT = "account"


@dataclass(frozen=True)
class Locked:
    """A token or an account that refuses sign-in until IT staff unlock it."""

    kind: LockedKind
    name: str  # the serial or the username
    owner: str
    failures: int


class ReadAdministration(AdministrationBase):
    # -- the token inventory ---------------------------------------------------------------

    def tokens(self, *, search: str | None = None, limit: int | None = None, offset: int = 0) -> list[TokenInfo]:
        """One page of the inventory by serial (a serial or owner containing `search`)."""
        self._authorized()
        return self.system.tokens.list(search=search, limit=limit, offset=offset)

    def token_count(self, *, search: str | None = None) -> int:
        self._authorized()
        return self.system.tokens.count(search=search)

    def token_stream(
        self, *, owner: str | None = None, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> Iterator[TokenInfo]:
        """The inventory a chunk at a time (`ipkiosk tokens list`): never all in memory."""
        self._authorized()
        return self.system.tokens.iter(owner=owner, search=search, limit=limit, offset=offset)

    def token_documents(
        self, *, owner: str | None = None, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> Iterator[dict[str, object]]:
        """The inventory as JSON-ready documents, streamed (`ipkiosk tokens list --json`)."""
        self._authorized()
        return self.system.tokens.documents(owner=owner, search=search, limit=limit, offset=offset)

    def token(self, serial: str) -> TokenInfo:
        """The token with this serial; TokenNotFound names the serial as the inventory writes it."""
        self._authorized()
        return self._token(serial)

    def account(self, username: str) -> Account | None:
        self._authorized()
        return self.system.accounts.get(username)

    def locked(self) -> list[Locked]:
        """Every locked token, then every locked account (the store picks the locked tokens: a
        national inventory is not read whole to find a few)."""
        self._authorized()
        tokens = self.system.tokens.list(state=TokenState.LOCKED)
        accounts = [a for a in self.system.accounts.all() if a.locked]
        return [Locked(LockedKind.TOKEN, t.serial, t.owner or "-", t.failures) for t in tokens] + [
            Locked(LockedKind.ACCOUNT, a.username, a.username, a.failed_signins) for a in accounts
        ]

    # -- the audit trail -------------------------------------------------------------------

    def audit_rows(
        self,
        *,
        since: datetime | None = None,
        user: str | None = None,
        event: str | None = None,
        events: Sequence[str] | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditRow]:
        self._authorized()
        trail = self.system.audit.rows(
            since=since, user=user, event=event, events=events, limit=limit, newest_first=newest_first
        )
        return list(trail)

    def verify_audit(self) -> ChainReport:
        """Whether the HMAC chain is whole: no row changed, removed or added out of turn."""
        self._authorized()
        return self.system.audit.verify()

    # -- the outbox ------------------------------------------------------------------------

    def notices(self, *, pending_only: bool = False, limit: int | None = None) -> list[Notice]:
        self._authorized()
        return self.system.outbox.notices(pending_only=pending_only, limit=limit)

    def send_notices(self, sender: Sender, from_addr: str) -> tuple[FlushReport, int]:
        """Send what waits now (a retry wait is not honoured: IT asked), and what still waits."""
        self._authorized()
        report = self.system.outbox.flush(sender, from_addr, force=True)
        return report, self.system.outbox.pending_count()
