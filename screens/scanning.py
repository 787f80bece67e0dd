"""What the NPI step needs of a camera, without knowing OpenCV (the App adapts kiosk's scanner).

The scanner runs in a thread the App owns and posts these messages to the screen that started
it; `Screen.post_message` is thread safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from textual.message import Message


class ScanFrame(Message):
    """A preview frame (small numpy array) and the code's corners when one was found."""

    def __init__(self, frame: Any, corners: Any = None, decoded: bool = False) -> None:
        super().__init__()
        self.frame = frame
        self.corners = corners
        self.decoded = decoded

    def can_replace(self, message: Message) -> bool:
        # Frames come faster than a terminal draws: only the newest matters.
        return isinstance(message, ScanFrame)


class ScanFound(Message):
    def __init__(self, payload: str) -> None:
        super().__init__()
        self.payload = payload


class ScanHint(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ScanFailed(Message):
    def __init__(self, reason: str, message: str, *, params: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.reason = reason  # no_camera | unplugged | timeout | unreadable
        # `message` is a marked English message, maybe a template filled from `params` (a camera
        # index, a file name) as a core refusal is; the screen translates it (screens.i18n).
        self.message = message
        self.params = dict(params or {})


class ScanService(Protocol):
    description: str  # e.g. "camera 0" or "video file demo.mp4", in English (logs, IT staff)
    device_index: int | None  # the camera device's number, None when frames come from a file
    has_camera: bool  # False: only image files can be read

    def start(self, post: Callable[[Message], object]) -> None: ...

    def stop(self) -> None: ...

    def read_file(self, path: Path) -> str:
        """The payload in an image or video file; raises KioskError saying what is wrong."""
        ...
