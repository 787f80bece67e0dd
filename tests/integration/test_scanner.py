"""The scanner on real files: OpenCV writes videos and images, the capture thread reads them."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from core.clock import ManualClock
from core.cronto import CrontoIssuer, CrontoVerifier, make_image
from core.store import Store
from kiosk.camera import (
    Failed,
    Found,
    Frame,
    Hint,
    Notice,
    ScanEvent,
    Scanner,
    decode_frame,
    decode_image_file,
    first_payload_in_file,
)
from kiosk.camera import scanner as scanner_module
from kiosk.camera.decoder import Reading
from kiosk.camera.scanner import NOT_OURS_HINT, hint_for
from kiosk.camera.source import FrameSource, SourceError, device_present
from tests.frames import empty_frame, synth_frame, video_with_code, write_video

CLOCK = ManualClock(1_750_000_000.0)
ISSUER = CrontoIssuer.generate("clinic-it")
TOKEN = ISSUER.make_token("drsmith", "1234567893", timedelta(days=1), CLOCK, jti="scan-test")


class Events:
    """Collects events from the capture thread."""

    def __init__(self) -> None:
        self.items: list[ScanEvent] = []
        self.lock = threading.Lock()
        self.first_frame = threading.Event()

    def __call__(self, event: ScanEvent) -> None:
        with self.lock:
            self.items.append(event)
        if isinstance(event, Frame):
            self.first_frame.set()

    def of(self, kind: type) -> list[Any]:
        with self.lock:
            return [e for e in self.items if isinstance(e, kind)]


def scan(source: str | Path, timeout: float = 20.0, **kw: Any) -> tuple[Found | Failed, Events]:
    # The default work budget: what decodes does not depend on how busy the machine is.
    events = Events()
    scanner = Scanner(str(source), events, timeout=timeout, **kw)
    scanner.start()
    result = scanner.wait(timeout + 10)
    assert result is not None, "the scan did not end"
    assert not scanner.running
    return result, events


def test_code_appearing_after_empty_frames_is_found_and_verifies(tmp_path: Path) -> None:
    video = video_with_code(tmp_path / "clip.avi", TOKEN, empty=12, showing=6, fps=30)
    result, events = scan(video)
    assert result == Found(TOKEN)
    frames = events.of(Frame)
    assert frames and frames[-1].decoded and frames[-1].corners is not None
    assert frames[0].preview.ndim == 3 and frames[0].preview.shape[2] == 3
    assert events.items[-1] == result and len(events.of(Found)) == 1
    store = Store.at(tmp_path / "store")
    claims = CrontoVerifier({"clinic-it": ISSUER.public_key_pem()}, CLOCK, store).check(result.payload, "drsmith")
    assert claims.jti == "scan-test"
    store.dispose()


@pytest.mark.parametrize("category", ["perspective", "small", "blur", "dark", "rotation"])
def test_hard_frames_at_720p_are_read(tmp_path: Path, category: str) -> None:
    video = video_with_code(
        tmp_path / f"{category}.avi",
        TOKEN,
        empty=3,
        showing=8,
        category=category,
        size=(1280, 720),
        fps=30,
        seed=11,
    )
    result, _ = scan(video)
    assert result == Found(TOKEN)


def test_decode_frame_reads_a_tilted_code_and_not_an_empty_desk() -> None:
    rng = np.random.default_rng(3)
    assert decode_frame(synth_frame("perspective", rng, TOKEN).frame) == TOKEN
    assert decode_frame(cv2.cvtColor(synth_frame("nominal", rng, TOKEN).frame, cv2.COLOR_BGR2GRAY)) == TOKEN
    assert decode_frame(empty_frame(rng, 1280, 720)) is None


def test_the_cronto_image_file_is_read(tmp_path: Path) -> None:
    png = tmp_path / "cronto.png"
    png.write_bytes(make_image(TOKEN))
    assert decode_image_file(str(png)) == TOKEN
    assert first_payload_in_file(str(png)) == TOKEN
    result, events = scan(png)
    assert result == Found(TOKEN) and events.of(Frame)


def test_first_payload_in_a_video_file(tmp_path: Path) -> None:
    video = video_with_code(tmp_path / "clip.avi", TOKEN, empty=5, showing=2)
    assert first_payload_in_file(str(video)) == TOKEN


def test_stop_ends_the_capture_thread(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    video = write_video(tmp_path / "long.avi", [empty_frame(rng, 320, 180)] * 300, fps=15)
    events = Events()
    scanner = Scanner(str(video), events, timeout=60)
    scanner.start()
    assert events.first_frame.wait(10)
    assert scanner.running
    scanner.stop()
    assert not scanner.running
    assert scanner.result is None
    assert not events.of(Found) and not events.of(Failed)
    assert not any(t.name == "camera-scan" and t.is_alive() for t in threading.enumerate())


def _absent_index() -> int:
    return next(i for i in range(9, 64) if not device_present(i))


def test_a_missing_camera_fails_with_no_camera_within_3_seconds() -> None:
    events = Events()
    scanner = Scanner(str(_absent_index()), events, timeout=60)
    scanner.start()
    result = scanner.wait(3.0)
    assert isinstance(result, Failed) and result.reason == "no_camera"
    assert "camera" in result.message.lower()


def test_a_negative_index_is_refused_without_touching_opencv() -> None:
    result, _ = scan("-1", timeout=5)
    assert isinstance(result, Failed) and result.reason == "no_camera"


@pytest.mark.parametrize("name", ["missing.avi", "missing.png"])
def test_a_missing_file_is_no_camera(tmp_path: Path, name: str) -> None:
    result, _ = scan(tmp_path / name, timeout=5)
    assert isinstance(result, Failed) and result.reason == "no_camera"
    with pytest.raises(SourceError):
        first_payload_in_file(str(tmp_path / name))


@pytest.mark.parametrize("name", ["junk.avi", "junk.png"])
def test_a_file_opencv_cannot_read_is_unreadable(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"not a picture " * 50)
    result, _ = scan(tmp_path / name, timeout=5)
    assert isinstance(result, Failed) and result.reason == "unreadable"
    assert decode_image_file(str(tmp_path / name)) is None


def test_a_video_that_ends_without_a_code_is_unreadable(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    video = write_video(tmp_path / "empty.avi", [empty_frame(rng, 320, 180)] * 6, fps=30)
    result, _ = scan(video)
    assert isinstance(result, Failed) and result.reason == "unreadable"


def test_nothing_decoded_in_time_is_a_timeout(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    video = write_video(tmp_path / "desk.avi", [empty_frame(rng, 320, 180)] * 60, fps=15)
    result, _ = scan(video, timeout=0.4)
    assert isinstance(result, Failed) and result.reason == "timeout"


def test_a_camera_that_stops_sending_frames_is_unplugged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real capture on a short clip, treated as live: when the clip runs out, reads fail
    # the way an unplugged USB camera's do.
    class LiveClip(FrameSource):
        def _open(self) -> None:
            super()._open()
            self.live = True

    monkeypatch.setattr(scanner_module, "FrameSource", LiveClip)
    monkeypatch.setattr(scanner_module, "UNPLUGGED_AFTER", 0.3)
    rng = np.random.default_rng(6)
    video = write_video(tmp_path / "clip.avi", [empty_frame(rng, 320, 180)] * 4, fps=30)
    result, events = scan(video, timeout=30)
    assert isinstance(result, Failed) and result.reason == "unplugged"
    assert events.of(Frame)


def test_without_zbar_opencv_reads_and_the_kiosk_says_so_once(tmp_path: Path) -> None:
    video = video_with_code(tmp_path / "clip.avi", TOKEN, empty=2, showing=6, fps=30)
    result, events = scan(video, engine="opencv")
    assert result == Found(TOKEN)
    notices = events.of(Notice)
    assert len(notices) == 1 and "zbar" in notices[0].text


def test_a_refused_payload_gives_a_hint_and_the_scan_goes_on(tmp_path: Path) -> None:
    video = video_with_code(tmp_path / "clip.avi", "https://example.com/menu", empty=1, showing=4)
    result, events = scan(video, accept=lambda payload: payload.count(".") == 2)
    assert isinstance(result, Failed) and result.reason == "unreadable"
    assert [h.text for h in events.of(Hint)] == [NOT_OURS_HINT]


def test_hints_name_the_likeliest_problem() -> None:
    assert "dark" in hint_for(Reading(brightness=20, contrast=10), 720).lower()
    assert "washed out" in hint_for(Reading(brightness=120, contrast=8), 720)
    assert "Hold your enrollment image up" in hint_for(Reading(brightness=120, contrast=50), 720)
    small = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float32)
    assert "closer" in hint_for(Reading(brightness=120, contrast=50, corners=small), 720)
    big = small * 4
    assert "still" in hint_for(Reading(brightness=120, contrast=50, corners=big), 720)
