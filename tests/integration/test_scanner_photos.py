"""The scanner on frames that imitate real photographs (tests/photo_frames.py): each test is one
of the ways real photos beat the scanner, and what it must do instead."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.clock import ManualClock
from core.cronto import CrontoIssuer, looks_like_enrollment_token
from kiosk.camera import Failed, Found, Hint, decode_frame, sample
from kiosk.camera.decoder import DEFAULT_BUDGET, Decoder, plain_text
from kiosk.camera.grid import alignment_positions, corner_trio, finder_patterns, read_version
from kiosk.camera.locate import locate
from kiosk.camera.scanner import NOT_OURS_HINT
from kiosk.camera.zbar import ZBAR_MISSING_REASON, ZbarReader
from tests.frames import background, fake_token, place, pose, shots, write_video
from tests.integration.test_scanner import scan
from tests.photo_frames import PHOTO_CATEGORIES, modules, photo_frame, photo_shots, render

CLOCK = ManualClock(1_750_000_000.0)
TOKEN = CrontoIssuer.generate("clinic-it").make_token("drsmith", "1234567893", timedelta(days=1), CLOCK, jti="p")
# Not UTF-8: OpenCV's str API raises UnicodeDecodeError on this code's bytes.
SHIFT_JIS = "日本語テキスト".encode("shift_jis")
MULTI_LINE = "UI office hours signup\r\nhttp://clinic.example/office_hours/ \r\n\tRoom 2"
needs_zbar = pytest.mark.skipif(ZBAR_MISSING_REASON is not None, reason="libzbar is not installed")


def kiosk_decoder(**kw: object) -> Decoder:
    return Decoder(accept=looks_like_enrollment_token, **kw)  # type: ignore[arg-type]


def code_frame(data: str | bytes, px: int = 6, quiet: int = 4) -> np.ndarray:
    return cv2.cvtColor(render(modules(data), px, quiet), cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("quiet", [0, 1])
def test_a_code_of_one_pixel_per_module_without_quiet_zone_is_read(quiet: int) -> None:
    frame = code_frame(TOKEN, px=1, quiet=quiet)
    assert frame.shape[0] < 90  # the whole file is smaller than the old patch floor
    assert decode_frame(frame) == TOKEN
    assert kiosk_decoder().decode(frame) == TOKEN


def test_codes_cropped_to_their_edge_are_read() -> None:
    for shot in photo_shots(4, 31, ("no_margin", "one_px")):
        assert decode_frame(shot.frame) == shot.payload, shot.category


def test_a_small_code_in_a_small_frame_is_a_candidate_and_is_read() -> None:
    rng = np.random.default_rng(8)
    payload = fake_token(rng, 50)
    bg = background(rng, 320, 240)
    corners = pose(rng, 85.0, width=320, height=240)
    frame, _ = place(render(modules(payload), 8, 3), bg, corners)
    found = locate(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    assert any(
        cv2.pointPolygonTest(q.reshape(-1, 1, 2), tuple(map(float, corners.mean(axis=0))), False) > 0 for q in found
    )
    assert kiosk_decoder().decode(frame) == payload
    for shot in photo_shots(4, 32, ("small_textured",)):
        assert kiosk_decoder().decode(shot.frame) == shot.payload


def test_of_two_nested_codes_the_outer_one_is_returned() -> None:
    for shot in photo_shots(4, 33, ("nested",)):
        reading = kiosk_decoder().read(shot.frame)
        assert reading.payload == shot.payload, reading.rung


def test_the_whole_frame_pass_runs_first_whatever_the_budget() -> None:
    """Square print the patch finder takes for codes: the old ladder could spend its budget on
    such patches. The whole-frame pass runs first, even on a budget of a single rung."""
    rng = np.random.default_rng(9)
    frame = background(rng, 640, 360)
    for x, y in ((0, 0), (470, 190)):
        dots = (rng.random((28, 28)) < 0.5).astype(np.uint8) * 200 + 30
        frame[y : y + 170, x : x + 170] = cv2.resize(dots, (170, 170), interpolation=cv2.INTER_NEAREST)[..., None]
    corners = np.array([[215, 75], [425, 75], [425, 285], [215, 285]], np.float32)
    frame, _ = place(render(modules(TOKEN), 8, 4), frame, corners)
    assert len(locate(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))) == 3  # the code and two decoys
    for budget in (1, None):
        reading = kiosk_decoder(budget=budget).read(frame)
        assert reading.payload == TOKEN and reading.rung.startswith("frame@")
        assert budget is None or reading.work > budget  # the first rung is never refused


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_same_frames_read_the_same_under_cpu_load() -> None:
    frames = [s.frame for s in photo_shots(2, 34, PHOTO_CATEGORIES)]

    def results() -> list[tuple[str | None, str, int]]:
        decoder = kiosk_decoder()
        return [(r.payload, r.rung, r.work) for r in map(decoder.read, frames)]

    quiet = results()
    spinners = [multiprocessing.Process(target=_spin, args=(120.0,), daemon=True) for _ in range(3)]
    for p in spinners:
        p.start()
    try:
        loaded = results()
    finally:
        for p in spinners:
            p.terminate()
            p.join()
    assert loaded == quiet
    # The budget, plus at most one rung past it (the first rung, or a nested code re-read).
    assert all(work <= 2 * DEFAULT_BUDGET for _, _, work in quiet)
    assert sum(payload is not None for payload, _, _ in quiet) >= len(frames) // 2


@needs_zbar
def test_zbar_hands_back_the_raw_bytes() -> None:
    symbols = ZbarReader().read(cv2.cvtColor(code_frame(SHIFT_JIS), cv2.COLOR_BGR2GRAY))
    assert [data for data, _ in symbols] == [SHIFT_JIS]


def test_only_printable_ascii_is_a_payload() -> None:
    assert plain_text(TOKEN.encode()) == TOKEN
    assert plain_text(SHIFT_JIS) is None
    assert plain_text("café".encode()) is None
    assert plain_text(b"line\x00break") is None
    assert plain_text(b"\x1b[2Jcleared") is None  # a terminal escape
    assert plain_text(b" \r\n") is None
    assert plain_text(MULTI_LINE.encode()) == MULTI_LINE


@pytest.mark.parametrize("engine", [None, "opencv"])
def test_a_code_of_several_lines_is_read_and_the_kiosk_calls_it_another_code(engine: str | None) -> None:
    # zxing's benchmark photo android-1/qrcode-2.jpg: every decoder read its two lines, and
    # this scanner turned it down as not printable, so it reported no code at all.
    frame = code_frame(MULTI_LINE, px=4)
    assert Decoder(None, engine=engine).decode(frame) == MULTI_LINE
    reading = kiosk_decoder(engine=engine).read(frame)
    assert reading.payload is None and reading.other_code


@pytest.mark.parametrize("engine", [None, "opencv"])
def test_a_shift_jis_or_big5_code_is_another_code_never_a_wrong_text(engine: str | None) -> None:
    for shot in photo_shots(3, 35, ("foreign_text",)):
        reading = Decoder(None, engine=engine).read(shot.frame)
        assert reading.payload is None
    reading = Decoder(None, engine=engine).read(code_frame(SHIFT_JIS))
    assert reading.payload is None and reading.other_code


def _two_codes(first: str, second: str) -> np.ndarray:
    """Two codes side by side on one sheet, as a poster next to the enrollment image; the
    poster's code is the bigger one (the patch finder's first pick)."""
    a, b = (render(modules(text), 5 if text == TOKEN else 14, 4) for text in (first, second))
    h = max(a.shape[0], b.shape[0])
    sheet = np.full((h, a.shape[1] + b.shape[1]), 255, np.uint8)
    sheet[: a.shape[0], : a.shape[1]] = a
    sheet[: b.shape[0], a.shape[1] :] = b
    return cv2.cvtColor(sheet, cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("other", ["https://example.org/menu", SHIFT_JIS.decode("shift_jis")])
def test_a_scan_does_not_stop_on_another_code_in_the_same_picture(tmp_path: Path, other: str) -> None:
    for i, sheet in enumerate((_two_codes(other, TOKEN), _two_codes(TOKEN, other))):
        png = tmp_path / f"two{i}.png"
        cv2.imwrite(str(png), sheet)
        result, _ = scan(png, accept=looks_like_enrollment_token)
        assert result == Found(TOKEN)


def test_opencv_hands_back_bytes_and_never_raises_on_them() -> None:
    """The pyzbar ladder's last rung is OpenCV's decoder too: the same guard there."""
    from kiosk.camera.decoder import _opencv_reader

    read = _opencv_reader()
    assert [data for data, _ in read(render(modules(SHIFT_JIS), 6, 4))] == [SHIFT_JIS]


@pytest.mark.parametrize("engine", [None, "opencv"])
def test_a_code_that_is_not_utf8_does_not_stop_the_camera(tmp_path: Path, engine: str | None) -> None:
    """OpenCV's str API raised UnicodeDecodeError on such a code: "The camera stopped working"."""
    png = tmp_path / "poster.png"
    cv2.imwrite(str(png), code_frame(SHIFT_JIS))
    result, events = scan(png, engine=engine, accept=looks_like_enrollment_token)
    assert isinstance(result, Failed) and result.reason == "unreadable"
    assert NOT_OURS_HINT in [h.text for h in events.of(Hint)]
    frames = [code_frame(SHIFT_JIS)] * 3 + [code_frame(TOKEN)] * 3
    video = write_video(tmp_path / "clip.avi", [cv2.resize(f, (480, 480)) for f in frames], fps=15)
    result, _ = scan(video, engine=engine, accept=looks_like_enrollment_token)
    assert result == Found(TOKEN)


def test_a_steep_tilt_whose_outline_is_cut_is_read_by_the_codes_own_landmarks() -> None:
    """The patch finder's quadrilateral of this 50-degree tilt cuts off the code's left corner;
    the finder and alignment patterns give the true homography (the old ladder read nothing)."""
    shot = list(shots(10, 2024, ("perspective",)))[9]
    reading = kiosk_decoder().read(shot.frame)
    assert reading.payload == shot.payload
    assert reading.rung == "finders"


@pytest.mark.parametrize(("version", "positions"), [(1, []), (7, [6, 22, 38]), (12, [6, 32, 58])])
def test_alignment_positions_follow_the_standard(version: int, positions: list[int]) -> None:
    assert alignment_positions(version) == positions
    assert alignment_positions(32) == [6, 34, 60, 86, 112, 138]


@pytest.mark.parametrize("length", [200, 283, 500])
def test_the_version_is_read_from_the_code_itself(length: int) -> None:
    payload = fake_token(np.random.default_rng(length), length)
    mods = modules(payload)
    img = cv2.copyMakeBorder(render(mods, 6, 4), 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
    finders, binary = finder_patterns(img)
    trio = corner_trio(finders)
    assert trio is not None
    assert read_version(binary, trio) == (mods.shape[0] - 17) // 4


@needs_zbar
@pytest.mark.parametrize("seed", [2, 6, 7])
def test_a_curved_code_is_read_module_by_module(seed: int) -> None:
    """Bent between its landmarks by more than half a module, this code defeats zbar on every
    straightened image (the old ladder read none of these three); sampled module by module on
    the grid its timing lines and edges show, and redrawn clean, it reads."""
    shot = photo_frame("curved", np.random.default_rng(seed))
    reading = kiosk_decoder().read(shot.frame)
    assert reading.payload == shot.payload
    assert reading.rung == sample.NAME


@pytest.mark.parametrize("seed", [2, 6, 7])
def test_without_zbar_a_curved_code_is_read_module_by_module(seed: int) -> None:
    """The OpenCV engine read none of these three: its detector loses the bent grid as zbar
    does. It now reads the same code sampled module by module and redrawn, first of its rungs."""
    shot = photo_frame("curved", np.random.default_rng(seed))
    reading = kiosk_decoder(engine="opencv").read(shot.frame)
    assert reading.payload == shot.payload
    assert reading.rung == sample.NAME


def test_opencv_decodes_a_redrawn_code_where_it_was_drawn_and_hands_back_bytes() -> None:
    """The redrawn code is decoded on the corners sample.py drew it at, with no search; the
    bytes as they are, a code that is not UTF-8 included."""
    from kiosk.camera.decoder import _opencv_reader

    img = sample.redrawn(modules(SHIFT_JIS))
    read = _opencv_reader(cv2.QRCodeDetectorAruco())
    symbols = read(img, sample.drawn_corners(img.shape[0]))
    assert [data for data, _ in symbols] == [SHIFT_JIS]
    assert np.allclose(symbols[0][1], sample.drawn_corners(img.shape[0]))


def test_without_zbar_a_large_frame_where_no_patch_shows_still_gets_a_look() -> None:
    """Large frames are read patch by patch without zbar; with no patch found, the whole
    frame is the first rung (the ladder was empty: the frame was never looked at)."""
    frame = background(np.random.default_rng(0), 1280, 720)
    reading = kiosk_decoder(engine="opencv").read(frame)
    assert reading.candidates == [] and reading.payload is None
    assert reading.rung == "" and reading.work > 0


def test_the_timing_lines_measure_a_bend_module_by_module() -> None:
    """A code round a cylinder seen from the front: columns narrow as arcsin says towards the
    sides. From a flat guess (module corners evenly spaced) the sampled modules are wrong; moved
    to where the top timing line shows each column, every module comes out right."""
    mods = modules(fake_token(np.random.default_rng(3)))
    n, margin, px = mods.shape[0], 4, 8
    card = render(mods, px, margin)
    side = card.shape[1]
    arc = 1.4  # radians of the cylinder the code covers
    x = np.arange(side, dtype=np.float64) / (side - 1) * 2 - 1  # -1 .. 1 across the image
    u = (np.arcsin(x * np.sin(arc / 2)) / (arc / 2) + 1) / 2 * (side - 1)  # card column seen at x
    map_x = np.broadcast_to(u.astype(np.float32)[None, :], card.shape).copy()
    map_y = np.broadcast_to(np.arange(side, dtype=np.float32)[:, None], card.shape).copy()
    photo = cv2.remap(card, map_x, map_y, cv2.INTER_LINEAR)
    corners = np.arange(n + 2 * margin + 1, dtype=np.float32) * px
    flat = np.stack(np.meshgrid(corners, corners), axis=-1)
    guessed = sample.modules(photo, flat, n, margin, 255)
    measured = sample.modules(photo, sample.along_timing(photo, flat, n, margin, 255), n, margin, 255)
    assert int((guessed != mods).sum()) > n * n // 10
    assert int((measured != mods).sum()) == 0
