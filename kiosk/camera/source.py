"""Where frames come from: the `--camera` setting (a device index, a video file or an image).

Opening a device never passes a negative index (`cv2.VideoCapture(-1)` segfaults the whole
interpreter when no camera exists) and checks `/dev/videoN` first on Linux; elsewhere a
throw-away subprocess probes the index, so a crashing driver cannot take the kiosk down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import imagesize
import numpy as np

from core.errors import N_, fill

# The kiosk owns the terminal: OpenCV and FFmpeg must not write to stderr under the Textual
# screen. Every failure they would print is reported as a scan event instead.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read at first video open
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
DEFAULT_FPS = 15.0
# A 50-megapixel photo decodes to 150 MB; a few kilobytes of PNG can claim 400 megapixels
# (18 s and 2.4 GB to decode), so the size is read from the header before anything is decoded.
MAX_IMAGE_PIXELS = 50_000_000


class SourceError(Exception):
    """The camera setting names nothing usable; `reason` is a Failed reason."""

    def __init__(self, reason: Literal["no_camera", "unreadable"], message: str, **params: object) -> None:
        # `message` is a marked template (core.errors.N_), filled from `params` like a KioskError's.
        self.template = message
        self.params = {k: str(v) for k, v in params.items()}
        self.message = fill(message, self.params) if params else message
        super().__init__(self.message)
        self.reason = reason


@dataclass(frozen=True)
class CameraSetting:
    kind: Literal["device", "video", "image"]
    index: int = 0
    path: Path | None = None

    def describe(self) -> str:
        return f"camera {self.index}" if self.kind == "device" else str(self.path)


def parse_camera(value: str | int) -> CameraSetting:
    """`"0"`, `"2"` -> a device index; anything else is a file (image by its suffix, else video)."""
    text = str(value).strip()
    if text.lstrip("+-").isdigit():
        index = int(text)
        if index < 0:
            raise SourceError("no_camera", N_("Camera index {index} is not valid: use 0, 1, 2, ..."), index=index)
        return CameraSetting("device", index=index)
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # `~nouser/clip.mp4`: no such user's home
        raise SourceError(
            "unreadable", N_("The camera setting {setting} names an unknown user's home folder."), setting=repr(text)
        ) from None
    kind: Literal["video", "image"] = "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"
    return CameraSetting(kind, path=path)


def device_present(index: int, timeout: float = 2.5) -> bool:
    """Whether camera `index` exists, found without risking this process."""
    if index < 0:
        return False
    if sys.platform.startswith("linux"):
        return Path(f"/dev/video{index}").exists()
    probe = "import sys, cv2; c = cv2.VideoCapture(int(sys.argv[1])); sys.exit(0 if c.isOpened() else 1)"
    try:
        done = subprocess.run([sys.executable, "-c", probe, str(index)], timeout=timeout, capture_output=True)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return done.returncode == 0


def read_image(path: Path) -> np.ndarray:
    """A BGR image from a file whose header says it is of a size worth decoding."""
    try:
        width, height = imagesize.get(str(path))
    except (OSError, ValueError):  # a header too damaged to read: not an image the kiosk uses
        width = height = -1
    if width <= 0 or height <= 0:
        raise SourceError(
            "unreadable", N_("{path} is not an image the kiosk can read (PNG, JPEG, BMP, WebP, TIFF)."), path=path
        )
    if width * height > MAX_IMAGE_PIXELS:
        raise SourceError(
            "unreadable",
            N_(
                "{path} is {width} x {height} pixels, larger than the {limit} megapixels the kiosk "
                "decodes: use a smaller photo of the enrollment image."
            ),
            path=path,
            width=width,
            height=height,
            limit=MAX_IMAGE_PIXELS // 1_000_000,
        )
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError("unreadable", N_("{path} is not an image OpenCV can read."), path=path)
    return image


class FrameSource:
    """An opened camera setting; `frames()` yields BGR frames, paced like a live camera."""

    def __init__(self, setting: CameraSetting, *, paced: bool = True) -> None:
        self.setting = setting
        self.paced = paced
        self.live = setting.kind == "device"
        self._cap: cv2.VideoCapture | None = None
        self._image: np.ndarray | None = None
        self.fps = DEFAULT_FPS
        self._open()

    def _open(self) -> None:
        s = self.setting
        if s.kind == "device":
            if not device_present(s.index):
                raise SourceError("no_camera", N_("No camera found at index {index}."), index=s.index)
            cap = cv2.VideoCapture(s.index)
            if not cap.isOpened():
                raise SourceError("no_camera", N_("Camera {index} is present but would not open."), index=s.index)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # decode the newest frame, not a backlog
            self._cap = cap
            return
        assert s.path is not None
        if not s.path.is_file():
            raise SourceError("no_camera", N_("There is no file {path}."), path=s.path)
        if s.kind == "image":
            self._image = read_image(s.path)
            return
        cap = cv2.VideoCapture(str(s.path))
        # A video's frame size is known once it is opened, before a frame is decoded.
        pixels = cap.get(cv2.CAP_PROP_FRAME_WIDTH) * cap.get(cv2.CAP_PROP_FRAME_HEIGHT) if cap.isOpened() else 0
        if pixels > MAX_IMAGE_PIXELS:
            cap.release()
            raise SourceError("unreadable", N_("{path} has frames larger than the kiosk decodes."), path=s.path)
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None:
            cap.release()
            raise SourceError("unreadable", N_("{path} is not a video OpenCV can read."), path=s.path)
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FPS
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._cap = cap

    def frames(self) -> Iterator[np.ndarray | None]:
        """Frames in order; for a device, None marks a failed read (the caller counts them).

        A video file is read no faster than its frame rate when `paced`, because a file
        standing in for a camera would otherwise be consumed as fast as it decodes.
        """
        if self._image is not None:
            yield self._image
            return
        assert self._cap is not None
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while True:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                if self.live:
                    yield None
                    continue
                return
            if self.paced and not self.live:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at = max(next_at + period, time.monotonic() - period)
            yield frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
