"""The token inventory: its records (core.token_records), the code checks (core.token_codes),
and here binding, the lifecycle IT staff run, and the demo simulator's "code now".

The names callers use stay importable from here.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, update

from core import otp
from core.errors import TokenUnavailable
from core.schema import tokens
from core.serials import normalize_serial
from core.token_codes import TokenCodes

# The inventory's vocabulary lives in core.token_model; kept importable from here.
from core.token_model import APP_SECRET_BYTES as APP_SECRET_BYTES
from core.token_model import CodeCheck as CodeCheck
from core.token_model import CodeMatch as CodeMatch
from core.token_model import ImportReport as ImportReport
from core.token_model import Method as Method
from core.token_model import RevokeReason as RevokeReason
from core.token_model import TokenInfo as TokenInfo
from core.token_model import TokenState as TokenState
from core.token_model import info_from_row
from core.token_model import new_app_secret as new_app_secret
from core.token_spec import TokenSpec


class TokenInventory(TokenCodes):
    def assign(self, conn: Connection, serial: str, username: str) -> None:
        done = conn.execute(
            update(tokens)
            .where(
                tokens.c.serial == normalize_serial(serial),
                tokens.c.state == TokenState.AVAILABLE.value,
                tokens.c.owner.is_(None),
            )
            .values(state=TokenState.ASSIGNED.value, owner=username, bound_at=self.clock.time())
        )
        if done.rowcount != 1:
            raise TokenUnavailable(f"Token {normalize_serial(serial)} is no longer available.")

    def bind_app(self, conn: Connection, username: str, secret: bytes, used_step: int) -> str:
        """Store a confirmed iPrescribe Authenticator secret as the user's factor."""
        serial = f"APP-{secrets.token_hex(4).upper()}"
        spec = TokenSpec(serial=serial, kind="totp", secret=secret)
        return self.add(
            conn, spec, method=Method.AUTHENTICATOR, state=TokenState.ASSIGNED, owner=username, last_used=used_step
        )

    def unlock(self, conn: Connection, serial: str) -> TokenInfo:
        info = info_from_row(self._row(conn, serial))
        if info.state is TokenState.REVOKED:
            raise TokenUnavailable(f"Token {info.serial} was revoked; assign a replacement instead.")
        new_state = TokenState.ASSIGNED if info.owner else TokenState.AVAILABLE
        conn.execute(update(tokens).where(tokens.c.serial == info.serial).values(state=new_state.value, failures=0))
        updated = self.get(info.serial, conn)
        assert updated is not None
        return updated

    def revoke(self, conn: Connection, serial: str, reason: RevokeReason) -> TokenInfo:
        info = info_from_row(self._row(conn, serial))
        conn.execute(
            update(tokens)
            .where(tokens.c.serial == info.serial)
            .values(state=TokenState.REVOKED.value, revoked_reason=reason.value)
        )
        updated = self.get(info.serial, conn)
        assert updated is not None
        return updated

    def code_now(self, serial: str, *, offset_steps: int = 0, press: int | None = None) -> tuple[str, float]:
        """The code a token shows now, and seconds until it changes (TOTP) or 0 (HOTP).

        For the demo token simulator and the IT staff's "what should it show" check only;
        never called on a provider's path.
        """
        with self.store.connect() as conn:
            row = self._row(conn, serial)
        info = info_from_row(row)
        seed = self._seed(row)
        if info.params.kind == "totp":
            t = self.clock.time()
            step = otp.step_at(info.params, t) + offset_steps
            remaining = info.params.period - (t % info.params.period)
            return otp.code_at(info.params, seed, step), remaining
        counter = press if press is not None else info.last_used + 1
        return otp.code_at(info.params, seed, counter), 0.0
