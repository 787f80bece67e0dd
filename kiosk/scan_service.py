"""Adapts the camera (kiosk.camera) to what the NPI screen expects (screens.scanning)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import KioskError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


class ImageUnreadable(KioskError):
    hint = "Hold the image closer to the camera, or ask IT staff for a new enrollment image."


def read_payload_from_file(path: Path) -> str:
    """The first QR payload in an image or video file."""
    import cv2

    from kiosk.camera.decoder import Decoder

    decoder = Decoder(budget_ms=2000.0)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        frame = cv2.imread(str(path))
        if frame is None:
            raise ImageUnreadable(f"{path.name} is not an image this kiosk can open.")
        payload = decoder.decode(frame)
    else:
        capture = cv2.VideoCapture(str(path))
        payload = None
        try:
            for _ in range(3000):
                ok, frame = capture.read()
                if not ok:
                    break
                payload = decoder.decode(frame)
                if payload:
                    break
        finally:
            capture.release()
    if not payload:
        raise ImageUnreadable(f"No enrollment image could be read from {path.name}.")
    return payload


class ScanService:
    """One camera scan at a time, in a thread this object owns."""

    def __init__(self, source: str | None, timeout: float) -> None:
        self.source = source
        self.timeout = timeout
        self.has_camera = source is not None
        self.description = f"camera {source}" if source is not None and source.isdigit() else f"{source}"
        self._scanner: Any = None
        self._lock = threading.Lock()

    def start(self, post: Callable[[Any], object]) -> None:
        if self.source is None:
            return
        from kiosk.camera import Scanner  # the helper-built camera thread

        from screens.scanning import ScanFailed, ScanFound, ScanFrame, ScanHint

        def on_event(event: Any) -> None:
            kind = type(event).__name__
            if kind == "Frame":
                post(ScanFrame(event.preview, getattr(event, "corners", None)))
            elif kind == "Found":
                post(ScanFound(event.payload))
            elif kind == "Hint":
                post(ScanHint(event.text))
            elif kind == "Failed":
                post(ScanFailed(event.reason, event.message))

        with self._lock:
            self.stop_locked()
            self._scanner = Scanner(self.source, on_event, timeout=self.timeout)
            self._scanner.start()

    def stop(self) -> None:
        with self._lock:
            self.stop_locked()

    def stop_locked(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()
            self._scanner = None

    def read_file(self, path: Path) -> str:
        return read_payload_from_file(path)
