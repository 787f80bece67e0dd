"""One kiosk in a process of its own, signing in against a shared store: for the concurrency
tests and bench/fleet.py (no pytest here). Processes are started from a forkserver, so each is a
real process with its own engine and connections, cheap to start."""

from __future__ import annotations

import multiprocessing
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext
from typing import Any

from core import hashing
from core.accounts import Accounts
from core.audit import AuditTrail
from core.backup_codes import BackupCodes
from core.clock import ManualClock, SystemClock
from core.errors import KioskError
from core.seeds import SeedBox
from core.signin import CodeRefused, SignInService
from core.store import Store
from core.throttle import Lockout
from core.tokens import TokenInventory


@dataclass(frozen=True)
class KioskSpec:
    url: str
    seed_key: bytes
    audit_key: bytes
    kiosk_id: str
    now: float | None = None  # a fixed clock; None: the wall clock
    lockout: Lockout = field(default_factory=Lockout)
    fast_hasher: bool = True  # the suite's fast argon2; False: production parameters


def signin_service(spec: KioskSpec) -> tuple[Store, SignInService]:
    if spec.fast_hasher:
        from argon2 import PasswordHasher

        hashing.use(hashing.SecretHasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)))
    store = Store(spec.url)
    clock = ManualClock(spec.now) if spec.now is not None else SystemClock()
    audit = AuditTrail(store, spec.audit_key, clock, spec.kiosk_id)
    tokens = TokenInventory(store, SeedBox(spec.seed_key), clock)
    service = SignInService(
        store, clock, audit, Accounts(store, clock), tokens, BackupCodes(store, clock), spec.lockout
    )
    return store, service


def answer(service: SignInService, username: str, password: str, code: str | None) -> str:
    """What one sign-in came to: "ok", an error's class (and diagnosis), or "crash: ..."."""
    try:
        service.sign_in(username, password, code)
        return "ok"
    except CodeRefused as exc:
        return f"CodeRefused:{exc.diagnosis.value}"
    except KioskError as exc:
        return type(exc).__name__
    except Exception:  # a bug: the test shows it
        return "crash: " + traceback.format_exc(limit=3)


def _attempt(spec: KioskSpec, attempt: tuple[str, str, str | None], barrier: Any, results: Any) -> None:
    store, service = signin_service(spec)
    try:
        barrier.wait(timeout=120)
        results.put(answer(service, *attempt))
    finally:
        store.dispose()


def _verify(spec: KioskSpec, attempt: tuple[str, str], barrier: Any, results: Any) -> None:
    """A code checked against a token directly (as resync, enrollment and IT screens do)."""
    store, service = signin_service(spec)
    try:
        barrier.wait(timeout=120)
        with store.begin() as conn:
            check = service.tokens.verify_code(conn, *attempt)
        results.put("accepted" if check.accepted else f"refused:{check.diagnosis}")
    except Exception:
        results.put("crash: " + traceback.format_exc(limit=3))
    finally:
        store.dispose()


def context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.kiosk_process"])
    return ctx


def at_once(specs: list[KioskSpec], attempts: list[Any], *, verify_only: bool = False) -> list[str]:
    """Start one process per attempt, release them together, and collect what each got.
    An attempt is (username, password, code), or with verify_only (serial, code)."""
    ctx = context()
    barrier = ctx.Barrier(len(attempts))
    results = ctx.Queue()
    target = _verify if verify_only else _attempt
    procs = [
        ctx.Process(target=target, args=(spec, attempt, barrier, results))
        for spec, attempt in zip(specs, attempts, strict=True)
    ]
    for p in procs:
        p.start()
    out = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return out


def timed_loop(spec: KioskSpec, attempt: tuple[str, str, str | None], stop_at: float, results: Any) -> None:
    """Sign in over and over until `stop_at` (wall clock); put (latencies, answers)."""
    store, service = signin_service(spec)
    latencies: list[float] = []
    answers: list[str] = []
    try:
        while time.time() < stop_at:
            t = time.perf_counter()
            answers.append(answer(service, *attempt))
            latencies.append(time.perf_counter() - t)
    finally:
        store.dispose()
        results.put((latencies, answers))
