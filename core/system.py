"""The kiosk's domain services wired together; built by kiosk/services.py or by tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.accounts import Accounts
from core.audit import AuditTrail, check_kiosk_id
from core.backup_codes import BackupCodes
from core.clock import Clock
from core.credentials import AUDIT_KEY, SEED_KEY, CredentialStore
from core.directory.model import Verification
from core.epcs import EpcsControls
from core.notifications import Outbox
from core.proofing import IdentityProofing
from core.seeds import SeedBox
from core.signin import SignInService
from core.store import Store
from core.throttle import Lockout
from core.token_fitness import TokenFitness
from core.tokens import TokenInventory

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from core.cronto import EnrollmentClaims


class NpiDirectory(Protocol):
    def verify(
        self, npi: str, last_name: str | None, on_answer: Callable[[Any], object] | None = None
    ) -> Verification: ...


class EnrollmentImages(Protocol):
    def check(self, payload: str, expected_user: str) -> EnrollmentClaims: ...

    def consume(self, claims: EnrollmentClaims, conn: Connection) -> None: ...


@dataclass(frozen=True)
class Policy:
    # IP-Auth-Stop-Binding-2.0: on by default; off is the legacy behaviour.
    stop_binding: bool = True
    kiosk_id: str = "kiosk"
    issuer_label: str = "iPrescribe"
    # 1311.115(b): hardware tokens bound for EPCS prescribers need a FIPS 140 certificate.
    epcs_require_fips: bool = True
    lockout: Lockout = field(default_factory=Lockout)

    def __post_init__(self) -> None:
        check_kiosk_id(self.kiosk_id)  # the audit and the throttle store it: at most NAME_MAX


class KioskSystem:
    def __init__(
        self,
        store: Store,
        credentials: CredentialStore,
        clock: Clock,
        directory: NpiDirectory,
        cronto: EnrollmentImages,
        policy: Policy | None = None,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.clock = clock
        self.directory = directory
        self.cronto = cronto
        self.policy = policy or Policy()
        # Keys are made on first use: a new kiosk store starts with fresh keys in its keyring.
        self.seedbox = SeedBox(credentials.key(SEED_KEY, create=True))
        self.audit = AuditTrail(store, credentials.key(AUDIT_KEY, create=True), clock, self.policy.kiosk_id)
        self.accounts = Accounts(store, clock)
        self.tokens = TokenInventory(store, self.seedbox, clock)
        self.backup_codes = BackupCodes(store, clock)
        self.signin = SignInService(
            store, clock, self.audit, self.accounts, self.tokens, self.backup_codes, self.policy.lockout
        )
        self.epcs = EpcsControls(self)
        self.proofing = IdentityProofing(self)
        self.outbox = Outbox(store, clock)
        self.token_fitness = TokenFitness(self)
        self.audit.listeners.append(self.outbox.on_audit)
