"""Adapts the camera (kiosk.camera) to what the NPI screen expects (screens.scanning)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import N_, KioskError


class ImageUnreadable(KioskError):
    hint = N_("Check the file, hold the image closer to the camera, or ask IT staff for a new enrollment image.")


class ScanService:
    """One camera scan at a time, in a thread this object owns (the App owns this object)."""

    def __init__(self, source: str | None, timeout: float) -> None:
        self.source = source
        self.timeout = timeout
        self.has_camera = source is not None
        self.device_index = int(source) if source is not None and source.isdigit() else None
        self.description = f"camera {source}" if self.device_index is not None else f"{source}"
        self._scanner: Any = None
        self._lock = threading.Lock()
        self._noticed = False  # the no-libzbar notice is said once per kiosk run

    def start(self, post: Callable[[Any], object]) -> None:
        if self.source is None:
            return
        from core.cronto import looks_like_enrollment_token
        from kiosk.camera import Failed, Found, Frame, Hint, Notice, Scanner
        from screens.scanning import ScanFailed, ScanFound, ScanFrame, ScanHint

        def on_event(event: Any) -> None:  # runs on the capture thread
            if isinstance(event, Frame):
                post(ScanFrame(event.preview, event.corners, event.decoded))
            elif isinstance(event, Found):
                post(ScanFound(event.payload))
            elif isinstance(event, Hint):
                post(ScanHint(event.text))
            elif isinstance(event, Notice):
                if not self._noticed:
                    self._noticed = True
                    post(ScanHint(event.text))
            elif isinstance(event, Failed):
                post(ScanFailed(event.reason, event.template, params=event.params))

        with self._lock:
            self._stop_locked()
            self._scanner = Scanner(self.source, on_event, timeout=self.timeout, accept=looks_like_enrollment_token)
            self._scanner.start()

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()
            self._scanner = None

    def read_file(self, path: Path) -> str:
        """The enrollment image's payload from an image or video file."""
        from kiosk.camera import SourceError, first_payload_in_file

        try:
            payload = first_payload_in_file(str(path))
        except SourceError as exc:
            raise ImageUnreadable(exc.template, params=exc.params) from None
        if not payload:
            raise ImageUnreadable(N_("No enrollment image could be read from {name}."), params={"name": path.name})
        return payload
