"""The authenticator QR code read off the screen the way a phone reads it.

The binding screen is exported as an SVG screenshot, rasterized (cairosvg) and decoded with
zbar; the decoded text must be the otpauth URI the kiosk offered. A second renderer paints the
exported cells the way a terminal with extra line spacing or narrow block glyphs does (each
glyph in a box smaller than its cell, the rest of the cell in the background colour), since
that is where a code drawn in foreground glyphs on a light ground fell apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import segno
from rich.color import Color
from rich.terminal_theme import SVG_EXPORT_THEME
from textual._compositor import LayoutUpdate
from textual.pilot import Pilot
from textual.strip import Strip

from core.clock import ManualClock
from core.credentials import ISSUER_KEY
from core.cronto import CrontoIssuer, make_image
from kiosk.demo import DEMO_ISSUER, PROVIDERS
from screens.enrollment.authenticator_binding import AuthenticatorBindingScreen
from screens.widgets.qr_code import FILLS_SCREEN, QrCode
from tests.ui.conftest import PASSWORD, Kiosk, make_kiosk, settle, to_npi_step

cairosvg = pytest.importorskip("cairosvg")
pyzbar = pytest.importorskip("pyzbar.pyzbar")

SHORT = "dr.rivera"
MIDDLE = "dr." + "m" * 35 + ".x"  # 40 characters: version 6, whose top border 80x24 used to cut off
LONGEST = "dr." + "l" * 59 + ".x"  # 64 characters, the most a username may have
SIZES = [(80, 24), (100, 32)]


def _qr_texts(gray: np.ndarray) -> list[str]:
    return [r.data.decode("ascii") for r in pyzbar.decode(gray) if r.type == "QRCODE"]


def read_svg(svg: str) -> list[str]:
    """What a camera pointed at the screenshot reads, scaled as a phone would see it."""
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=1600)
    gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    return _qr_texts(gray)


@dataclass(frozen=True)
class Terminal:
    """How a terminal draws a cell: the glyph box is a fraction of the cell, top-left aligned."""

    cell_w: int = 10
    cell_h: int = 20
    line_spacing: float = 1.0
    glyph_width: float = 1.0

    def paint(self, strips: list[Strip]) -> np.ndarray:
        row_h = round(self.cell_h * self.line_spacing)
        gw = round(self.cell_w * self.glyph_width)
        width = max(strip.cell_length for strip in strips)
        img = np.zeros((row_h * len(strips), self.cell_w * width), np.uint8)
        for y, strip in enumerate(strips):
            x = 0
            for seg in strip:
                style = seg.style
                fg, bg = _gray(style.color if style else None, 0), _gray(style.bgcolor if style else None, 255)
                for ch in seg.text:
                    top, left = y * row_h, x * self.cell_w
                    img[top : top + row_h, left : left + self.cell_w] = bg
                    half = self.cell_h // 2
                    if ch == "▀":
                        img[top : top + half, left : left + gw] = fg
                    elif ch == "▄":
                        img[top + half : top + self.cell_h, left : left + gw] = fg
                    elif ch == "█":
                        img[top : top + self.cell_h, left : left + gw] = fg
                    x += 1
        return img

    def read(self, strips: list[Strip]) -> list[str]:
        return _qr_texts(self.paint(strips))


def _gray(color: Color | None, default: int) -> int:
    if color is None or color.is_default:
        return default
    r, g, b = color.get_truecolor(SVG_EXPORT_THEME)
    return round(0.299 * r + 0.587 * g + 0.114 * b)


def screen_cells(pilot: Pilot[Any]) -> list[Strip]:
    # The same cells export_screenshot() writes into the SVG (no public call returns them).
    update = pilot.app.screen._compositor.render_update(full=True)
    assert isinstance(update, LayoutUpdate)
    return [Strip.join(line) for line in update.strips]


def add_provider(k: Kiosk, username: str) -> None:
    """An account with the longest username, verifiable like dr.rivera (same directory entry)."""
    rivera = next(p for p in PROVIDERS if p.username == SHORT)
    system = k.services.system
    with system.store.begin() as conn:
        system.accounts.add(
            conn, username, display_name=rivera.name, npi=rivera.npi, role="provider", password=PASSWORD
        )
    pem = k.services.credentials.get(ISSUER_KEY)
    assert pem is not None
    issuer = CrontoIssuer(DEMO_ISSUER, pem.encode("ascii"))
    token = issuer.make_token(username, rivera.npi, timedelta(days=30), k.clock)
    (k.data_dir / "cronto" / f"{username}.png").write_bytes(make_image(token))


@pytest.fixture
def long_kiosk(
    demo_template: Path, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Kiosk]:
    # A fixed secret so a run reads the same code every time (the layout does not depend on it).
    monkeypatch.setattr("core.enrollment.new_app_secret", lambda: hashlib.sha1(b"qr-on-screen").digest())
    k = make_kiosk(demo_template, tmp_path, clock)
    add_provider(k, MIDDLE)
    add_provider(k, LONGEST)
    yield k
    k.services.close()


async def to_binding(pilot: Pilot[Any], username: str) -> str:
    """Open the binding screen for `username`; return the URI it offers."""
    await to_npi_step(pilot, username)
    await pilot.click("#continue")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AuthenticatorBindingScreen)
    enrollment = pilot.app.screen.enrollment
    uri: str = enrollment.begin_app_binding().uri
    assert f":{username}?" in uri
    return uri


def _quiet_zones(pilot: Pilot[Any]) -> tuple[int, int, int]:
    fit = pilot.app.screen.query_one("#qr", QrCode).quiet_zone()
    return fit.top, fit.bottom, fit.side


def _whole_code_visible(pilot: Pilot[Any]) -> bool:
    qr = pilot.app.screen.query_one("#qr", QrCode)
    fit = qr.quiet_zone()
    needed = (fit.top + qr.modules + fit.bottom + 1) // 2
    region = qr.region
    return region.y >= 0 and region.y + needed <= pilot.app.size.height and qr.size.height >= needed


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("username", [SHORT, MIDDLE, LONGEST], ids=["short", "40-chars", "64-chars"])
async def test_phone_reads_the_screenshot(long_kiosk: Kiosk, username: str, size: tuple[int, int]) -> None:
    async with long_kiosk.app.run_test(size=size) as pilot:
        uri = await to_binding(pilot, username)
        assert _whole_code_visible(pilot)
        assert read_svg(pilot.app.export_screenshot()) == [uri]
        assert Terminal().read(screen_cells(pilot)) == [uri]


TERMINALS = {
    "line spacing 1.2": Terminal(line_spacing=1.2),
    "line spacing 1.5": Terminal(line_spacing=1.5),
    "block glyphs 80% of the cell width": Terminal(glyph_width=0.8),
    "both": Terminal(line_spacing=1.2, glyph_width=0.85),
}


@pytest.mark.parametrize("username", [SHORT, LONGEST], ids=["short", "64-chars"])
async def test_gaps_in_cells_take_the_module_colour(long_kiosk: Kiosk, username: str) -> None:
    async with long_kiosk.app.run_test(size=(80, 24)) as pilot:
        uri = await to_binding(pilot, username)
        cells = screen_cells(pilot)
        unread = [name for name, terminal in TERMINALS.items() if terminal.read(cells) != [uri]]
        assert unread == []


async def test_quiet_zone_is_four_modules_where_it_fits(long_kiosk: Kiosk) -> None:
    async with long_kiosk.app.run_test(size=(100, 32)) as pilot:
        await to_binding(pilot, SHORT)
        assert _quiet_zones(pilot) == (4, 4, 4)
        assert not pilot.app.screen.has_class(FILLS_SCREEN)


async def test_longest_username_at_80x24_takes_the_whole_screen(long_kiosk: Kiosk) -> None:
    async with long_kiosk.app.run_test(size=(80, 24)) as pilot:
        await to_binding(pilot, LONGEST)
        assert pilot.app.screen.has_class(FILLS_SCREEN)
        top, bottom, side = _quiet_zones(pilot)
        assert min(top, bottom) >= 1 and side == 4
        # Back to a tall terminal: the header and footer come back.
        await pilot.resize_terminal(100, 40)
        await settle(pilot)
        assert not pilot.app.screen.has_class(FILLS_SCREEN)
        assert _quiet_zones(pilot) == (4, 4, 4)


def test_code_is_the_smallest_version_the_uri_allows() -> None:
    from screens.widgets.qr_code import make_symbol

    uri = "otpauth://totp/iPrescribe:" + "a" * 52 + "?secret=" + "A" * 32 + "&issuer=iPrescribe"
    # Byte mode alone needs version 7 (45 modules); the upper-case secret in alphanumeric mode fits 6.
    assert segno.make_qr(uri, error="l").version == 7
    assert make_symbol(uri).version == 6
