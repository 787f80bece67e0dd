"""One injectable clock for every OTP, expiry and lock-out rule.

Everything that asks the time takes a `Clock`, so tests, the demo and the token simulator can
move time without patching `time.time`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the Unix epoch, UTC."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told; thread safe."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._now

    def set(self, t: float) -> None:
        with self._lock:
            self._now = t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def utcnow(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.time(), tz=UTC)
