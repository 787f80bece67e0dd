"""EPCS signing permission: two-person logical access control (21 CFR 1311.125, 1311.130).

One IT staff member enters a grant (state `pending`); a second person, a DEA registrant with a
bound second factor of their own, approves it by signing with password and token code (state
`granted`). Nobody approves what they entered, nor their own permission. Losing the last bound
factor suspends the permission at once (1311.125(d)); IT can revoke it. Each change is one
transaction with its audit row, which names both people.

The CLI and the IT screens both come through `core.admin.Administration` (who may act) to
`EpcsControls` (the rules), so neither can drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from core.accounts import Account, Role
from core.backup_codes import looks_like_backup_code
from core.epcs_state import ACTIVE, GRANTABLE, Permission, PermissionState, RoleHolder, permission_from_row
from core.errors import EpcsRefused as EpcsRefused  # defined there; kept importable from here
from core.errors import ProofingRefused
from core.events import Event, Outcome
from core.schema import epcs_permissions
from core.signin import SignedIn
from core.token_model import Method

if TYPE_CHECKING:
    from core.system import KioskSystem

MAX_REASON = 200


class EpcsControls:
    def __init__(self, system: KioskSystem) -> None:
        self.system = system

    # -- reading ---------------------------------------------------------------------------

    def get(self, username: str, conn: Connection | None = None) -> Permission:
        name = self.system.accounts.normalize_username(username)
        q = select(epcs_permissions).where(epcs_permissions.c.username == name)
        if conn is not None:
            return permission_from_row(conn.execute(q).first(), name)
        with self.system.store.connect() as c:
            return permission_from_row(c.execute(q).first(), name)

    def permissions(self) -> list[Permission]:
        """Every provider, with `none` for those never entered."""
        with self.system.store.connect() as conn:
            rows = {r.username: r for r in conn.execute(select(epcs_permissions))}
        return [
            permission_from_row(rows.get(a.username), a.username)
            for a in self.system.accounts.all()
            if a.role is Role.PROVIDER or a.username in rows
        ]

    def overview(self) -> list[dict[str, Any]]:
        """`epcs list`: each permission with the provider's DEA number and latest ID check."""
        accounts = {a.username: a for a in self.system.accounts.all()}
        rows = []
        for permission in self.permissions():
            row = permission.as_dict()
            row["dea_number"] = accounts[permission.username].dea_number
            proofed = self.system.proofing.latest(permission.username)
            row["identity_proofing"] = proofed.as_dict() if proofed else None
            rows.append(row)
        return rows

    def roles(self) -> list[RoleHolder]:
        holders: list[RoleHolder] = []
        with self.system.store.connect() as conn:
            for account in self.system.accounts.all():
                if account.role is Role.IT_STAFF:
                    holders.append(RoleHolder(account.username, "entry", True))
                if account.dea_registrant:
                    bound = bool(self.system.tokens.factors(conn, account.username))
                    holders.append(
                        RoleHolder(account.username, "approval", bound, "" if bound else "no second factor bound")
                    )
        return holders

    # -- changes ---------------------------------------------------------------------------

    def grant(self, provider: str, entered_by: str, password: str, code: str | None) -> Permission:
        """IT staff enter a grant; it does nothing until a second person approves it."""
        it = self._account(entered_by, "entered_by")
        subject = self._account(provider, "provider")
        if it.role is not Role.IT_STAFF:
            self._refuse(
                Event.EPCS_GRANT,
                it.username,
                subject.username,
                "not_it_staff",
                f"{it.username} is not IT staff; only IT staff enter EPCS grants.",
            )
        if it.username == subject.username:
            self._refuse(
                Event.EPCS_GRANT,
                it.username,
                subject.username,
                "self_entry",
                "Nobody may enter their own EPCS permission.",
            )
        self.sign(it.username, password, code, need_token=False)
        with self.system.store.begin() as conn:
            problem = self._provider_problem(conn, subject)
            current = self.get(subject.username, conn)
            if problem is None and current.state not in GRANTABLE:
                problem = (
                    f"already_{current.state.value}",
                    f"{subject.username}'s EPCS permission is already {current.state.value}.",
                    "",
                )
            if problem is None:
                now = self.system.clock.time()
                values = {
                    "state": PermissionState.PENDING.value,
                    "entered_by": it.username,
                    "entered_at": now,
                    "approved_by": None,
                    "approved_at": None,
                    "changed_at": now,
                    "reason": "",
                }
                if current.state is PermissionState.NONE:
                    try:
                        with conn.begin_nested():
                            conn.execute(epcs_permissions.insert().values(username=subject.username, **values))
                        done = 1
                    except IntegrityError:  # entered on another kiosk a moment ago
                        done = 0
                else:
                    done = self._move(conn, subject.username, current.state, values)
                if done:
                    proofed = self.system.proofing.latest(subject.username, conn)
                    detail = f"state=pending {proofed.summary if proofed else ''}".strip()
                    self._audit(conn, Event.EPCS_GRANT, it.username, subject.username, Outcome.OK, detail)
                    return self.get(subject.username, conn)
                problem = ("changed", "The permission was changed on another kiosk meanwhile; look again.", "")
        self._refuse(Event.EPCS_GRANT, it.username, subject.username, *problem)

    def approve(self, provider: str, approver: str, password: str, code: str) -> Permission:
        """A DEA registrant signs the pending grant with password and token code."""
        subject = self._account(provider, "provider")
        person = self._account(approver, "approver")
        pending = self.get(subject.username)
        if pending.state is not PermissionState.PENDING:
            self._refuse(
                Event.EPCS_APPROVE,
                person.username,
                subject.username,
                "not_pending",
                f"{subject.username} has no EPCS grant waiting for approval (state {pending.state.value}).",
                "IT staff enter it first with `ipkiosk epcs grant`.",
            )
        entered = f"entered_by={pending.entered_by}"
        if person.username == pending.entered_by:
            self._refuse(
                Event.EPCS_APPROVE,
                person.username,
                subject.username,
                "same_person",
                "The person who entered a grant cannot also approve it; a second person must.",
                detail=entered,
            )
        if person.username == subject.username:
            self._refuse(
                Event.EPCS_APPROVE,
                person.username,
                subject.username,
                "self_approval",
                "Nobody may approve their own EPCS permission.",
                detail=entered,
            )
        if not person.dea_registrant or not person.dea_number:
            self._refuse(
                Event.EPCS_APPROVE,
                person.username,
                subject.username,
                "not_registrant",
                f"{person.username} is not a DEA registrant; only a registrant may approve.",
                detail=entered,
            )
        with self.system.store.connect() as conn:
            has_factor = bool(self.system.tokens.factors(conn, person.username))
        if not has_factor:
            self._refuse(
                Event.EPCS_APPROVE,
                person.username,
                subject.username,
                "approver_no_factor",
                f"{person.username} has no second factor bound, so cannot sign an approval.",
                "Bind a token or the app to the approver's account first.",
                detail=entered,
            )
        self.sign(person.username, password, code, need_token=True, subject=subject.username)
        with self.system.store.begin() as conn:
            problem = self._provider_problem(conn, subject)
            if problem is None:
                now = self.system.clock.time()
                done = self._move(
                    conn,
                    subject.username,
                    PermissionState.PENDING,
                    {
                        "state": PermissionState.GRANTED.value,
                        "approved_by": person.username,
                        "approved_at": now,
                        "changed_at": now,
                    },
                    entered_by=pending.entered_by,
                )
                if done:
                    self._audit(
                        conn,
                        Event.EPCS_APPROVE,
                        person.username,
                        subject.username,
                        Outcome.OK,
                        f"{entered} state=granted",
                    )
                    return self.get(subject.username, conn)
                problem = ("changed", "The grant was changed on another kiosk meanwhile; look again.", "")
        self._refuse(Event.EPCS_APPROVE, person.username, subject.username, *problem, detail=entered)

    def revoke(self, provider: str, by: str, password: str, code: str | None, reason: str) -> Permission:
        it = self._account(by, "by")
        subject = self._account(provider, "provider")
        why = " ".join(reason.split())
        if not why:
            raise EpcsRefused("Say why the permission is revoked (--reason).", "no_reason")
        if len(why) > MAX_REASON:
            raise EpcsRefused(f"Keep the reason under {MAX_REASON} characters.", "reason_too_long")
        if it.role is not Role.IT_STAFF:
            self._refuse(
                Event.EPCS_REVOKE,
                it.username,
                subject.username,
                "not_it_staff",
                f"{it.username} is not IT staff; only IT staff revoke EPCS permissions.",
            )
        self.sign(it.username, password, code, need_token=False)
        with self.system.store.begin() as conn:
            current = self.get(subject.username, conn)
            if current.state in (PermissionState.NONE, PermissionState.REVOKED):
                problem: tuple[str, str, str] = (
                    "not_active",
                    f"{subject.username} has no EPCS permission to revoke.",
                    "",
                )
            else:
                now = self.system.clock.time()
                if self._move(
                    conn,
                    subject.username,
                    current.state,
                    {"state": PermissionState.REVOKED.value, "changed_at": now, "reason": why},
                ):
                    self._audit(
                        conn,
                        Event.EPCS_REVOKE,
                        it.username,
                        subject.username,
                        Outcome.OK,
                        f"was={current.state.value} entered_by={current.entered_by} "
                        f"approved_by={current.approved_by} reason={why}",
                    )
                    return self.get(subject.username, conn)
                problem = ("changed", "The permission was changed on another kiosk meanwhile; look again.", "")
        self._refuse(Event.EPCS_REVOKE, it.username, subject.username, *problem)

    def suspend_if_no_factor(self, conn: Connection, provider: str, actor: str, cause: str) -> bool:
        """1311.125(d): once the provider has no bound factor left, the permission stops in the
        same transaction as the change that took the factor away."""
        current = self.get(provider, conn)
        if current.state not in ACTIVE or self.system.tokens.factors(conn, current.username):
            return False
        now = self.system.clock.time()
        if not self._move(
            conn,
            current.username,
            current.state,
            {"state": PermissionState.SUSPENDED.value, "changed_at": now, "reason": cause},
        ):
            return False
        self._audit(
            conn,
            Event.EPCS_SUSPEND,
            actor,
            current.username,
            Outcome.OK,
            f"was={current.state.value} entered_by={current.entered_by} "
            f"approved_by={current.approved_by} cause={cause}",
        )
        return True

    # -- helpers ---------------------------------------------------------------------------

    def _account(self, username: str, what: str) -> Account:
        account = self.system.accounts.get(username)
        if account is None:
            raise EpcsRefused(
                f"No account named '{username}' ({what}).", "no_account", "Check the username (`ipkiosk users list`)."
            )
        return account

    def _provider_problem(self, conn: Connection, subject: Account) -> tuple[str, str, str] | None:
        if subject.role is not Role.PROVIDER:
            return ("not_provider", f"{subject.username} is not a provider account.", "")
        if not subject.dea_number:
            return (
                "no_dea",
                f"{subject.username} has no DEA number on the account; a grant needs one.",
                "Add it with `ipkiosk users set USERNAME --dea DEA_NUMBER`.",
            )
        factors = self.system.tokens.factors(conn, subject.username)
        if not factors:
            return (
                "no_factor",
                f"{subject.username} has no second factor bound; bind one before a grant.",
                "Run guided setup with the provider first.",
            )
        unfit = [f.serial for f in factors if f.method is Method.CODE_GENERATOR and not f.fips_cert]
        if unfit and self.system.policy.epcs_require_fips:
            return (
                "token_not_fips",
                f"{subject.username}'s token {', '.join(unfit)} has no FIPS 140 certificate on record.",
                "Record it with `ipkiosk epcs token SERIAL --fips-cert NUMBER`, or bind a token that has one.",
            )
        proofed = self.system.proofing.latest(subject.username, conn)
        if proofed is None:
            return ("not_proofed", f"No ID check is recorded for {subject.username}.", ProofingRefused.hint)
        if not any(f.bound_at is not None and f.bound_at >= proofed.checked_at for f in factors):
            # 1311.105: the credential goes to a person already proofed, not the other way round.
            return (
                "proofed_after_binding",
                f"{subject.username}'s ID was checked after every bound factor was bound.",
                "Bind a new factor in guided setup now that the ID is checked, then enter the grant again.",
            )
        return None

    def sign(self, username: str, password: str, code: str | None, *, need_token: bool, subject: str = "-") -> SignedIn:
        """Password and code now, through the kiosk's sign-in (counted, throttled, audited)."""
        # A backup code is for getting back in, not the two-factor credential 1311 asks for;
        # refused before the sign-in so it is not used up either.
        backup = bool(code) and looks_like_backup_code(code or "")
        signed = (
            None
            if need_token and backup
            else self.system.signin.sign_in(username, password, code or None, event=Event.EPCS_SIGN_IN)
        )
        if signed is None or (need_token and signed.second_factor in (None, "backup_code")):
            self._refuse(
                Event.EPCS_APPROVE,
                username,
                subject,
                "not_token_signature",
                "An approval is signed with a code from the approver's token or app, not a backup code.",
            )
        return signed

    def _move(
        self,
        conn: Connection,
        username: str,
        from_state: PermissionState,
        values: dict[str, Any],
        entered_by: str | None = None,
    ) -> int:
        q = update(epcs_permissions).where(
            epcs_permissions.c.username == username, epcs_permissions.c.state == from_state.value
        )
        if entered_by is not None:
            q = q.where(epcs_permissions.c.entered_by == entered_by)
        return int(conn.execute(q.values(**values)).rowcount)

    def _audit(self, conn: Connection, event: Event, actor: str, subject: str, outcome: str, detail: str) -> None:
        self.system.audit.record(conn, event, actor=actor, subject=subject, outcome=outcome, detail=detail)

    def _refuse(
        self, event: Event, actor: str, subject: str, reason: str, message: str, hint: str = "", *, detail: str = ""
    ) -> NoReturn:
        self.system.audit.log(event, actor=actor, subject=subject, outcome=Outcome.refused(reason), detail=detail)
        raise EpcsRefused(message, reason, hint or None)
