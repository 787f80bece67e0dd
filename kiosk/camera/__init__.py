"""The webcam: capture thread, QR decoding and scan events for the NPI-verification step.

Public API (see each docstring):
    Scanner(source, on_event, timeout).start() / .stop()
    events: Frame, Found, Hint, Notice, Failed (ScanEvent)
    decode_frame(frame) -> str | None, decode_image_file(path) -> str | None
    first_payload_in_file(path) -> str | None
"""

from kiosk.camera.events import Failed, Found, Frame, Hint, Notice, ScanEvent
from kiosk.camera.scanner import Scanner, decode_frame, decode_image_file, first_payload_in_file
from kiosk.camera.source import SourceError, device_present, parse_camera

__all__ = [
    "Failed",
    "Found",
    "Frame",
    "Hint",
    "Notice",
    "ScanEvent",
    "Scanner",
    "SourceError",
    "decode_frame",
    "decode_image_file",
    "device_present",
    "first_payload_in_file",
    "parse_camera",
]
