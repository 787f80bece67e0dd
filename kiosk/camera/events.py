"""What a scan tells the screen, one small immutable event at a time.

Events are produced on the capture thread; the screen hands them to the UI thread
(`App.call_from_thread` or `post_message`) and never blocks the capture loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from core.errors import fill

FailReason = Literal["no_camera", "unplugged", "timeout", "unreadable"]


@dataclass(frozen=True)
class Frame:
    """A preview of the latest frame, a few times a second.

    `preview` is a small RGB uint8 array (height x width x 3); `corners` are the found or
    likeliest code's four corners in preview pixels (x, y), or None; `decoded` says whether
    those corners belong to a code that was read.
    """

    preview: np.ndarray
    corners: np.ndarray | None = None
    decoded: bool = False


@dataclass(frozen=True)
class Found:
    """The first payload read; the scan has ended. Never log `payload` (it is a credential)."""

    payload: str


@dataclass(frozen=True)
class Hint:
    """Advice while nothing decodes: "Hold the image closer to the camera.", "Too dark...";
    a marked message (core.errors.N_) the screen translates."""

    text: str


@dataclass(frozen=True)
class Notice:
    """Something the kiosk should say once, e.g. that OpenCV reads codes because libzbar is
    missing. The scan goes on."""

    text: str


@dataclass(frozen=True)
class Failed:
    """The scan ended without a payload.

    no_camera: no such device or file; unplugged: the camera stopped delivering frames;
    timeout: nothing decoded within the time limit; unreadable: the file is not an image or
    video OpenCV can read, or it ended without a readable code.
    """

    reason: FailReason
    # A marked message (core.errors.N_), maybe with `{name}` fields filled from `params` (a
    # camera index, a file path); the screen translates `template`, `message` is the English.
    template: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return fill(self.template, self.params) if self.params else self.template


ScanEvent = Frame | Found | Hint | Notice | Failed
