"""The webcam scan for step 3: a thread that reads frames, decodes them and reports events.

Usage from a screen (the App owns the thread's lifetime through the screen):

    scanner = Scanner(settings.camera, lambda e: app.call_from_thread(handle, e),
                      timeout=settings.scan_timeout)
    scanner.start()
    ...
    scanner.stop()  # on leaving the screen or on idle timeout; joins the thread

`on_event` is called on the capture thread with `Frame` (a few per second), `Hint`, `Notice`
and, exactly once, either `Found` or `Failed`; then the thread ends by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from core.errors import N_
from kiosk.camera.decoder import DEFAULT_BUDGET, Decoder, Reading
from kiosk.camera.events import Failed, Found, Frame, Hint, Notice, ScanEvent
from kiosk.camera.source import CameraSetting, FrameSource, SourceError, parse_camera
from kiosk.camera.zbar import ZBAR_MISSING_REASON

PREVIEW_WIDTH = 96  # pixels; the widget shows two rows of pixels per character cell
PREVIEW_FPS = 6.0
HINT_AFTER = 3.0  # seconds without a decode before the first hint
HINT_EVERY = 2.5
UNPLUGGED_AFTER = 2.0  # seconds of failed reads from a live camera

NOT_OURS_HINT = N_("That QR code is not an enrollment image. Hold up the image your administrator gave you.")
OPENCV_NOTICE = N_(
    "The camera reads codes with OpenCV because the zbar library is not installed; reading "
    "may be slower. IT staff: install libzbar0."
)


def preview_of(frame: np.ndarray, width: int = PREVIEW_WIDTH) -> tuple[np.ndarray, float]:
    """A small RGB copy of `frame` and the factor from frame to preview pixels."""
    h, w = frame.shape[:2]
    f = width / w
    small = cv2.resize(frame, (width, max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        return cv2.cvtColor(small, cv2.COLOR_GRAY2RGB), f
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB), f


def hint_for(reading: Reading, frame_height: int) -> str:
    """The one piece of advice most likely to help when codes are not decoding."""
    if reading.brightness < 45:
        return N_("Too dark: move closer to a light or turn the image towards the light.")
    if reading.brightness > 225 or reading.contrast < 18:
        return N_("The picture is washed out: avoid glare and hold the image flat.")
    if reading.corners is None:
        return N_("Hold your enrollment image up to the camera, in the middle of the picture.")
    side = float(np.linalg.norm(reading.corners[1] - reading.corners[0]))
    if side < 0.25 * frame_height:
        return N_("Hold the image closer to the camera.")
    return N_("Hold the image still and flat, facing the camera.")


def _stopped_sending(setting: CameraSetting) -> Failed:
    if setting.kind == "device":
        return Failed("unplugged", N_("Camera {index} stopped sending pictures."), {"index": str(setting.index)})
    return Failed("unplugged", N_("{path} stopped sending pictures."), {"path": str(setting.path)})


class Scanner:
    """Reads the first QR payload from the `--camera` source in a background thread.

    `source`: a device index ("0"), a video file or an image file. `timeout`: seconds before
    Failed("timeout"). `accept`: an optional filter; payloads it refuses produce a hint and
    the scan goes on (e.g. a random QR code in view). `engine="opencv"` forces the
    no-libzbar decoder. `budget` caps the decoding work per live frame in pixels (the next
    frame is a fresh chance); being work, not time, a frame reads the same on a busy machine.
    """

    def __init__(
        self,
        source: str,
        on_event: Callable[[ScanEvent], None],
        timeout: float,
        *,
        accept: Callable[[str], bool] | None = None,
        engine: str | None = None,
        preview_width: int = PREVIEW_WIDTH,
        budget: int = DEFAULT_BUDGET,
    ) -> None:
        self.source = source
        self.on_event = on_event
        self.timeout = timeout
        self.accept = accept
        self.engine = engine
        self.preview_width = preview_width
        self.budget = budget
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.result: Found | Failed | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.result = None
        self._thread = threading.Thread(target=self._run, name="camera-scan", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the thread to end and wait for it (a camera read returns within a frame)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> Found | Failed | None:
        """Block until the scan ends (tests and the CLI); the result, or None if still running."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result

    def _emit(self, event: ScanEvent) -> None:
        if isinstance(event, Found | Failed):
            self.result = event
        try:
            self.on_event(event)
        except Exception:
            import logging

            logging.getLogger(__name__).exception("scan event handler failed")

    def _run(self) -> None:
        try:
            self._scan()
        except SourceError as exc:
            self._emit(Failed(exc.reason, exc.template, exc.params))
        except Exception as exc:  # a driver or codec error must end in a message, not a trace
            self._emit(
                Failed("unplugged", N_("The camera stopped working ({error})."), {"error": exc.__class__.__name__})
            )

    def _scan(self) -> None:
        started = time.monotonic()
        deadline = started + self.timeout
        setting = parse_camera(self.source)
        source = FrameSource(setting)
        # A still image gets one look, so it may take the whole ladder; live frames keep coming.
        budget = None if setting.kind == "image" else self.budget
        decoder = Decoder(budget, engine=self.engine, accept=self.accept)
        if decoder.engine == "opencv" and (ZBAR_MISSING_REASON or self.engine == "opencv"):
            self._emit(Notice(OPENCV_NOTICE))
        last_preview = 0.0
        last_hint, last_hint_at = "", 0.0
        last_good = time.monotonic()
        try:
            for frame in source.frames():
                now = time.monotonic()
                if self._stop.is_set():
                    return
                if now >= deadline:
                    self._emit(Failed("timeout", N_("No enrollment image was read in time.")))
                    return
                if frame is None:  # a live camera that stopped answering
                    if now - last_good > UNPLUGGED_AFTER:
                        self._emit(_stopped_sending(setting))
                        return
                    time.sleep(0.05)
                    continue
                last_good = now
                reading = decoder.read(frame)
                if self._stop.is_set():  # stopped while decoding: the screen has moved on
                    return
                if now - last_preview >= 1.0 / PREVIEW_FPS or reading.payload:
                    self._emit(self._frame_event(frame, reading))
                    last_preview = now
                if reading.payload is not None:  # already verified by `accept`
                    self._emit(Found(reading.payload))
                    return
                if reading.other_code:
                    hint = NOT_OURS_HINT
                elif now - started >= HINT_AFTER:
                    hint = hint_for(reading, frame.shape[0])
                else:
                    hint = ""
                # A new hint at most every HINT_EVERY seconds, never the same one twice running.
                spaced = now - last_hint_at >= HINT_EVERY or hint == NOT_OURS_HINT
                if hint and hint != last_hint and spaced:
                    self._emit(Hint(hint))
                    last_hint, last_hint_at = hint, now
            if not self._stop.is_set():
                where = {"path": str(setting.path)}
                if setting.kind == "image":
                    self._emit(Failed("unreadable", N_("No readable code in the image {path}."), where))
                else:
                    self._emit(Failed("unreadable", N_("No readable code in the video {path}."), where))
        finally:
            source.close()

    def _frame_event(self, frame: np.ndarray, reading: Reading) -> Frame:
        preview, f = preview_of(frame, self.preview_width)
        corners = None if reading.corners is None else (reading.corners * f).astype(np.float32)
        return Frame(preview, corners, decoded=reading.payload is not None)


_local = threading.local()


def decode_frame(frame: np.ndarray) -> str | None:
    """The QR payload in one frame (BGR or grayscale array) if it is ASCII text, or None.

    The whole ladder runs (no budget): a file or a single frame gets every chance."""
    decoder = getattr(_local, "decoder", None)
    if decoder is None:
        decoder = _local.decoder = Decoder(None)
    payload: str | None = decoder.decode(frame)
    return payload


def decode_image_file(path: str) -> str | None:
    """The first QR payload in an image file, or None (also for a file that is not an image)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if image is None else decode_frame(image)


def first_payload_in_file(path: str) -> str | None:
    """The first payload in an image or video file, read as fast as it decodes (CLI, tests).

    Raises SourceError when the file is missing or not something OpenCV can read.
    """
    source = FrameSource(parse_camera(path), paced=False)
    try:
        for frame in source.frames():
            if frame is not None and (payload := decode_frame(frame)) is not None:
                return payload
    finally:
        source.close()
    return None
