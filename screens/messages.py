"""Messages screens post up to the App (attributes down, messages up), and what they carry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from textual.message import Message


class Purpose(StrEnum):
    """What a person came to the kiosk for; the welcome screen's buttons carry these ids."""

    ENROLL = "enroll"  # set up two-factor authentication
    USE_TOKEN = "token"  # noqa: S105 - "Using your hardware token": sign in with it
    IT = "it"  # the IT staff area


class Ending(StrEnum):
    """Why a session ended."""

    SIGNED_OUT = "signed_out"
    FINISHED = "finished"  # setup complete
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"  # idle


@dataclass
class StepDone(Message):
    """The enrollment moved on: show the screen for its new state."""


@dataclass
class SignedInFor(Message):
    """A sign-in succeeded, for `purpose`."""

    purpose: Purpose


@dataclass
class Start(Message):
    """From the welcome screen (or "Sign in again"): what the person wants to do."""

    purpose: Purpose


@dataclass
class EndSession(Message):
    """Sign out / finish / cancel: wipe the session and return to the welcome screen."""

    reason: Ending = Ending.SIGNED_OUT


@dataclass
class Failed(Message):
    """Something went wrong that the screen cannot recover from itself (a stale sign-in, a bug):
    the App shows what happened and a way on. Safe to post from any thread."""

    error: BaseException
