"""Accounts: providers and IT staff, with argon2id password hashes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.dea import validate_dea
from core.errors import AccountError
from core.hashing import hash_secret
from core.npi import validate_npi
from core.schema import NAME_MAX, accounts
from core.store import Store
from core.throttle import forget_account

USERNAME_RE = re.compile(rf"^[a-z0-9][a-z0-9._-]{{1,{NAME_MAX - 1}}}$")
DISPLAY_NAME_MAX = 200  # the column's length
MIN_PASSWORD = 8
# Enough to catch a typo'd address; delivery is the real test.
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")


class Role(StrEnum):
    PROVIDER = "provider"
    IT_STAFF = "it_staff"


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str  # "Last, First" as in NPPES
    npi: str | None
    role: Role
    locked: bool
    failed_signins: int
    email: str | None = None
    dea_number: str | None = None
    dea_registrant: bool = False  # may approve EPCS permissions (1311.125(a))

    @property
    def last_name(self) -> str:
        return self.display_name.split(",", 1)[0].strip()

    @property
    def greeting_name(self) -> str:
        last, _, first = self.display_name.partition(",")
        return f"{first.strip()} {last.strip()}".strip()


def _row_to_account(row: RowMapping) -> Account:
    return Account(
        username=row["username"],
        display_name=row["display_name"],
        npi=row["npi"],
        role=Role(row["role"]),
        locked=bool(row["locked"]),
        failed_signins=row["failed_signins"],
        email=row["email"],
        dea_number=row["dea_number"],
        dea_registrant=bool(row["dea_registrant"]),
    )


def check_email(text: str) -> str:
    email = text.strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise AccountError(f"'{email}' is not an email address (name@example.org).")
    return email


class Accounts:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    @staticmethod
    def normalize_username(username: str) -> str:
        return username.strip().lower()

    def add(
        self,
        conn: Connection,
        username: str,
        *,
        display_name: str,
        npi: str | None,
        role: Role | str,
        password: str,
        email: str | None = None,
        dea_number: str | None = None,
        dea_registrant: bool = False,
    ) -> Account:
        username = self.normalize_username(username)
        if not USERNAME_RE.match(username):
            raise AccountError(
                f"A username is 2-{NAME_MAX} characters: lower-case letters, digits, dot, dash or underscore."
            )
        if len(display_name.strip()) > DISPLAY_NAME_MAX:
            raise AccountError(f"The name must be at most {DISPLAY_NAME_MAX} characters.")
        if "," not in display_name or not display_name.split(",", 1)[0].strip():
            raise AccountError('The name must be written "Last, First", as in the NPI registry.')
        try:
            role = Role(role)
        except ValueError:
            raise AccountError("The role must be 'provider' or 'it_staff'.") from None
        if npi:
            npi = validate_npi(npi)
        elif role is Role.PROVIDER:
            raise AccountError("A provider account needs the provider's NPI.")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"The password must be at least {MIN_PASSWORD} characters.")
        email = check_email(email) if email else None
        if dea_number:
            dea_number = validate_dea(dea_number, display_name.split(",", 1)[0])
        elif dea_registrant:
            raise AccountError("A DEA registrant account needs its DEA number (--dea).")
        try:
            conn.execute(
                accounts.insert().values(
                    username=username,
                    display_name=display_name.strip(),
                    npi=npi or None,
                    role=role.value,
                    password_hash=hash_secret(password),
                    failed_signins=0,
                    locked=0,
                    created_at=self.clock.time(),
                    email=email,
                    dea_number=dea_number or None,
                    dea_registrant=int(dea_registrant),
                )
            )
        except IntegrityError:
            raise AccountError(f"The username '{username}' is already taken.") from None
        return Account(
            username, display_name.strip(), npi or None, role, False, 0, email, dea_number or None, dea_registrant
        )

    def get(self, username: str, conn: Connection | None = None) -> Account | None:
        q = select(accounts).where(accounts.c.username == self.normalize_username(username))
        if conn is not None:
            row = conn.execute(q).mappings().first()
        else:
            with self.store.connect() as c:
                row = c.execute(q).mappings().first()
        return _row_to_account(row) if row else None

    def all(self) -> list[Account]:
        with self.store.connect() as conn:
            return [_row_to_account(r) for r in conn.execute(select(accounts).order_by(accounts.c.username)).mappings()]

    def password_hash(self, conn: Connection, username: str) -> str | None:
        """The stored hash, for the sign-in to check outside any transaction; None if unknown."""
        q = select(accounts.c.password_hash).where(accounts.c.username == self.normalize_username(username))
        found = conn.execute(q).scalar_one_or_none()
        return None if found is None else str(found)

    def unlock(self, conn: Connection, username: str) -> bool:
        forget_account(conn, self.normalize_username(username))  # before the account row: the sign-in's lock order
        result = conn.execute(
            update(accounts)
            .where(accounts.c.username == self.normalize_username(username))
            .values(locked=0, failed_signins=0)
        )
        return result.rowcount == 1

    def set_password(self, conn: Connection, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"The password must be at least {MIN_PASSWORD} characters.")
        conn.execute(
            update(accounts).where(accounts.c.username == username).values(password_hash=hash_secret(password))
        )

    def factors_changed(self, conn: Connection, username: str) -> None:
        conn.execute(
            update(accounts).where(accounts.c.username == username).values(last_factor_change=self.clock.time())
        )

    def set_epcs_details(
        self,
        conn: Connection,
        username: str,
        *,
        email: str | None = None,
        dea_number: str | None = None,
        dea_registrant: bool | None = None,
    ) -> Account:
        """Change the address notifications go to, the DEA number or the registrant flag."""
        account = self.get(username, conn)
        if account is None:
            raise AccountError(f"No account named '{username}'.")
        values: dict[str, object] = {}
        if email is not None:
            values["email"] = check_email(email)
        if dea_number is not None:
            values["dea_number"] = validate_dea(dea_number, account.last_name)
        if dea_registrant is not None:
            if dea_registrant and not (values.get("dea_number") or account.dea_number):
                raise AccountError("A DEA registrant account needs its DEA number (--dea).")
            values["dea_registrant"] = int(dea_registrant)
        if values:
            conn.execute(update(accounts).where(accounts.c.username == account.username).values(**values))
        updated = self.get(account.username, conn)
        assert updated is not None
        return updated
