"""The NPI step with a camera: a generated video stands in for the webcam (paced to its frame
rate by the scanner), the code appears after some empty frames, and the kiosk verifies it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from core.clock import ManualClock
from core.credentials import ISSUER_KEY
from core.cronto import CrontoIssuer
from screens.enrollment.npi_verification import NpiVerificationScreen
from screens.welcome import WelcomeScreen
from tests.frames import video_with_code
from tests.ui.conftest import SIZE, Kiosk, ReturnT, choose_method, make_kiosk, screen_text, settle


def enrollment_video(k: Kiosk, tmp_path: Path, username: str, npi: str) -> Path:
    issuer = CrontoIssuer(k.services.settings.issuer_name, k.services.credentials.require(ISSUER_KEY).encode())
    token = issuer.make_token(username, npi, timedelta(days=30), k.clock)
    return video_with_code(tmp_path / "camera.avi", token, empty=8, showing=20, fps=15.0)


async def wait_until(pilot: Pilot[ReturnT], predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.2)):
        if predicate():
            return
        await pilot.pause(0.2)
        await settle(pilot)
    raise AssertionError(screen_text(pilot))


async def test_camera_scan_verifies_the_npi(demo_template: Path, tmp_path: Path, clock: ManualClock) -> None:
    probe = make_kiosk(demo_template, tmp_path / "probe", clock)
    video = enrollment_video(probe, tmp_path, "dr.okafor", "1993999998")
    probe.services.close()
    k = make_kiosk(demo_template, tmp_path / "k", clock, camera=str(video))
    async with k.app.run_test(size=SIZE) as pilot:
        await choose_method(pilot, "dr.okafor", "authenticator")
        assert isinstance(pilot.app.screen, NpiVerificationScreen)
        assert pilot.app.screen.query("#preview")
        await wait_until(pilot, lambda: "not found in the iPrescribe system" in screen_text(pilot))
        assert pilot.app.screen.query_one("#regions", DataTable).row_count == 5
    k.services.close()


async def test_leaving_the_step_stops_the_capture_thread(
    demo_template: Path, tmp_path: Path, clock: ManualClock
) -> None:
    import numpy as np

    from tests.frames import empty_frame, write_video

    rng = np.random.default_rng(3)
    video = write_video(tmp_path / "empty.avi", [empty_frame(rng, 320, 180) for _ in range(300)], fps=15.0)
    k = make_kiosk(demo_template, tmp_path / "k", clock, camera=str(video))
    async with k.app.run_test(size=SIZE) as pilot:
        await choose_method(pilot, "dr.okafor", "authenticator")
        await pilot.pause(0.5)
        assert k.app.scanner is not None  # the kiosk was given a camera
        scanner = k.app.scanner._scanner
        assert scanner is not None and scanner.running
        await pilot.press("f10")  # sign out
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
        scanner.wait(5.0)
        assert not scanner.running
    k.services.close()


async def test_other_qr_codes_in_view_are_ignored_not_refused(
    demo_template: Path, tmp_path: Path, clock: ManualClock
) -> None:
    """A poster's QR code in front of the camera gets a hint, not a refusal and an audit row."""
    from kiosk.camera.scanner import NOT_OURS_HINT

    # Long enough in view that a busy machine (frames dropped to keep up) still reads it once.
    video = video_with_code(tmp_path / "poster.avi", "https://example.org/menu", empty=2, showing=120, fps=15.0)
    k = make_kiosk(demo_template, tmp_path / "k", clock, camera=str(video))
    async with k.app.run_test(size=SIZE) as pilot:
        await choose_method(pilot, "dr.okafor", "authenticator")
        await wait_until(pilot, lambda: NOT_OURS_HINT in screen_text(pilot))
        assert not list(k.services.system.audit.rows(event="npi_verification"))
    k.services.close()
