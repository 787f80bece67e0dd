"""Messages screens post up to the App (attributes down, messages up)."""

from __future__ import annotations

from textual.message import Message


class StepDone(Message):
    """The enrollment moved on: show the screen for its new state."""


class SignedInFor(Message):
    """A sign-in succeeded; `purpose` says what the person came for."""

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose  # "enroll" | "token" | "it"


class Start(Message):
    """From the welcome screen: what the person wants to do."""

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose


class EndSession(Message):
    """Sign out / finish / cancel: wipe the session and return to the welcome screen."""

    def __init__(self, reason: str = "signed_out") -> None:
        super().__init__()
        self.reason = reason


class Failed(Message):
    """Something went wrong that the screen cannot recover from itself (a stale sign-in, a bug):
    the App shows what happened and a way on. Safe to post from any thread."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
