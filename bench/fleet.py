"""A fleet of kiosks signing in at once, on SQLite and on PostgreSQL (security rule 26).

For N kiosk processes (1, 4, 16), each signing in over and over with username, password and the
next HOTP code of its provider's token (two kiosks share each provider, so every code is raced):
sign-ins per second, p50/p99 latency, codes accepted twice (must be 0), and lock exactness (N
processes send one wrong code each for one token: how many were checked, against the limit 10).
Then a legitimate provider's sign-in latency, idle and while 4 processes hammer unknown
usernames from their own kiosks (goal: within 2x of idle).

Production argon2 parameters throughout. Starts its own PostgreSQL (tests/pgserver.py).

    .venv/bin/python bench/fleet.py [--seconds 4] [--kiosks 1,4,16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import otp
from core.accounts import Accounts
from core.clock import SystemClock
from core.otp import OtpParams
from core.seedfiles import TokenSpec
from core.seeds import SeedBox
from core.store import Store, sqlite_url
from core.throttle import Lockout
from core.tokens import TokenInventory
from tests.kiosk_process import KioskSpec, answer, context, signin_service
from tests.pgserver import PostgresServer

PASSWORD = "a long bench password"  # noqa: S105 - a bench account's
SEED_KEY = b"s" * 32
AUDIT_KEY = b"a" * 32
HOTP = OtpParams("hotp")
LOCK_SERIAL = "LOCK-1"


def seed_of(i: int) -> bytes:
    return bytes((i + k) % 256 for k in range(20))


def setup(url: str, providers: int) -> None:
    """Providers p0..pN with HOTP tokens H0..HN, plus `locky` with a token for the lock burst."""
    store = Store(url)
    clock = SystemClock()
    accounts = Accounts(store, clock)
    tokens = TokenInventory(store, SeedBox(SEED_KEY), clock)
    with store.begin() as conn:
        for i in range(providers):
            accounts.add(conn, f"p{i}", display_name=f"Bench, P{i}", npi=None, role="it_staff", password=PASSWORD)
            tokens.add(conn, TokenSpec(f"H{i}", "hotp", seed_of(i)))
            tokens.assign(conn, f"H{i}", f"p{i}")
        accounts.add(conn, "locky", display_name="Bench, Locky", npi=None, role="it_staff", password=PASSWORD)
        tokens.add(conn, TokenSpec(LOCK_SERIAL, "hotp", seed_of(999)))
        tokens.assign(conn, LOCK_SERIAL, "locky")
    store.dispose()


def spec(url: str, kiosk: str, lockout: Lockout | None = None) -> KioskSpec:
    return KioskSpec(url, SEED_KEY, AUDIT_KEY, kiosk, None, lockout or Lockout(), fast_hasher=False)


def sign_in_loop(url: str, kiosk: str, provider: int, start_at: float, stop_at: float, results: Any) -> None:
    """Sign in as p<provider> with its next HOTP code until stop_at; another kiosk races us."""
    store, service = signin_service(spec(url, kiosk))
    counter = 0
    done: list[tuple[float, str, int]] = []  # (latency, answer, counter)
    try:
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            code = otp.code_at(HOTP, seed_of(provider), counter)
            t = time.perf_counter()
            got = answer(service, f"p{provider}", PASSWORD, code)
            done.append((time.perf_counter() - t, got, counter))
            counter += 1
    finally:
        store.dispose()
        results.put((provider, done))


def hammer_loop(url: str, kiosk: str, start_at: float, stop_at: float, results: Any) -> None:
    # The hammering kiosks are other machines in a fleet; here they share this one's CPUs, so
    # they run at the lowest priority: what remains measured is what they do to the store.
    os.nice(19)
    store, service = signin_service(spec(url, kiosk))
    n = 0
    try:
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            answer(service, f"nobody-{kiosk}-{n}", "guessing a password", None)
            n += 1
    finally:
        store.dispose()
        results.put(("hammer", n))


def wrong_code_once(url: str, kiosk: str, start_at: float, results: Any) -> None:
    # Attempts in flight count as password failures until found right, so N at once for one
    # account would be throttled before the token is reached: the password throttle is off here.
    store, service = signin_service(spec(url, kiosk, Lockout(account_free=100)))
    try:
        while time.time() < start_at:
            time.sleep(0.001)
        results.put(answer(service, "locky", PASSWORD, "000000"))
    finally:
        store.dispose()


def run(target: Any, argsets: list[tuple[Any, ...]], seconds: float) -> list[Any]:
    ctx = context()
    results = ctx.Queue()
    start_at = time.time() + 3.0  # every process started and connected before the clock starts
    stop_at = start_at + seconds
    procs = []
    for args in argsets:
        full = (*args, start_at, stop_at, results) if target is not wrong_code_once else (*args, start_at, results)
        procs.append(ctx.Process(target=target, args=full))  # type: ignore[attr-defined]
    for p in procs:
        p.start()
    out = [results.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def fleet_row(url: str, n: int, seconds: float, first: int) -> dict[str, Any]:
    """Providers first, first+1, ... (HOTP counters still at 0), two kiosks racing each."""
    argsets = [(url, f"kiosk-{i}", first + i // 2) for i in range(n)]
    out = run(sign_in_loop, argsets, seconds)
    latencies = [lat for _, done in out for lat, _, _ in done]
    answers = Counter(
        got.split(":")[0] if not got.startswith("crash") else "crash" for _, done in out for _, got, _ in done
    )
    accepted = Counter((p, c) for p, done in out for _, got, c in done if got == "ok")
    doubles = sum(1 for k in accepted.values() if k > 1)
    lock = run(wrong_code_once, [(url, f"lock-{i}") for i in range(n)], seconds)
    store = Store(url)
    token = TokenInventory(store, SeedBox(SEED_KEY), SystemClock()).get(LOCK_SERIAL)
    with store.begin() as conn:  # ready for the next row
        TokenInventory(store, SeedBox(SEED_KEY), SystemClock()).unlock(conn, LOCK_SERIAL)
    store.dispose()
    checked = token.failures if token else -1  # each checked code counted once
    not_checked = sum(1 for a in lock if a == "CodeRefused:locked") - (1 if checked == otp.MAX_FAILURES else 0)
    return {
        "kiosks": n,
        "signins_per_s": sum(1 for _ in accepted) / seconds,
        "p50_ms": 1000 * pct(latencies, 0.5),
        "p99_ms": 1000 * pct(latencies, 0.99),
        "double": doubles,
        "lock": f"{checked} checked (expected {min(n, otp.MAX_FAILURES)}), {not_checked} refused unchecked"
        + "".join(f", {a}={k}" for a, k in Counter(lock).items() if not a.startswith("CodeRefused")),
        "other": ",".join(f"{k}={v}" for k, v in sorted(answers.items()) if k not in ("ok", "CodeRefused")),
    }


def hammered(url: str, seconds: float, first_free: int) -> tuple[float, float, int]:
    """p50 of one provider's sign-ins, idle and with 4 kiosks hammering unknown usernames.
    Providers first_free and first_free+1 were not used yet (their HOTP counters start at 0)."""
    idle = run(sign_in_loop, [(url, "legit-idle", first_free)], seconds)
    base = statistics.median(lat for _, done in idle for lat, got, _ in done if got == "ok")
    out = run(
        _mixed,
        [(url, "legit", first_free + 1), *[(url, f"hammer-{i}", None) for i in range(4)]],
        seconds,
    )
    legit = next(done for tag, done in out if tag == first_free + 1)
    busy = statistics.median(lat for lat, got, _ in legit if got == "ok")
    guesses = sum(n for tag, n in out if tag == "hammer")
    return base, busy, guesses


def _mixed(url: str, kiosk: str, provider: int | None, start_at: float, stop_at: float, results: Any) -> None:
    if provider is None:
        hammer_loop(url, kiosk, start_at, stop_at, results)
    else:
        sign_in_loop(url, kiosk, provider, start_at, stop_at, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--kiosks", default="1,4,16")
    args = parser.parse_args()
    sizes = [int(x) for x in args.kiosks.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="ipkiosk-fleet-"))
    server = PostgresServer.start(tmp / "pg")
    try:
        stores = {"sqlite": sqlite_url(tmp / "sqlite"), "postgresql": server.create_database("fleet")}
        (tmp / "sqlite").mkdir()
        print(
            f"{'store':<11} {'kiosks':>6} {'sign-ins/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'double':>6}  lock exactness"
        )
        rows_need = sum((n + 1) // 2 for n in sizes)
        for name, url in stores.items():
            setup(url, rows_need + 2)
            first = 0
            for n in sizes:
                row = fleet_row(url, n, args.seconds, first)
                first += (n + 1) // 2
                print(
                    f"{name:<11} {row['kiosks']:>6} {row['signins_per_s']:>10.1f} {row['p50_ms']:>8.1f}"
                    f" {row['p99_ms']:>8.1f} {row['double']:>6}  {row['lock']}"
                    + (f"  ({row['other']})" if row["other"] else "")
                )
        print()
        print(f"{'store':<11} {'idle p50 ms':>11} {'hammered p50 ms':>15} {'ratio':>6} {'guesses/s':>9}")
        for name, url in stores.items():
            base, busy, guesses = hammered(url, args.seconds, rows_need)
            rate = guesses / args.seconds
            print(f"{name:<11} {1000 * base:>11.1f} {1000 * busy:>15.1f} {busy / base:>6.2f} {rate:>9.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
