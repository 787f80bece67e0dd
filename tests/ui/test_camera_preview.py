"""The half-block camera preview in a tiny App."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from rich.style import Style
from textual.app import App, ComposeResult

from screens.widgets.camera_preview import UPPER_HALF, CameraPreview, Palette

ANSI_16 = {
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "white",
    "bright_black",
    "bright_red",
    "bright_green",
    "bright_yellow",
    "bright_blue",
    "bright_magenta",
    "bright_cyan",
    "bright_white",
}


class PreviewApp(App[None]):
    def __init__(self, palette: Palette = "color") -> None:
        super().__init__()
        self.palette = palette

    def compose(self) -> ComposeResult:
        yield CameraPreview(id="preview", palette=self.palette)


def picture() -> tuple[np.ndarray, np.ndarray]:
    """A 96x54 dark frame with a white card in the middle, and the card's corners."""
    frame = np.full((54, 96, 3), 40, np.uint8)
    frame[12:42, 33:63] = 250
    corners = np.array([[33, 12], [62, 12], [62, 41], [33, 41]], dtype=np.float32)
    return frame, corners


def styles_of(preview: CameraPreview) -> list[Style | None]:
    return [seg.style for y in range(preview.size.height) for seg in preview.render_line(y)]


def text_of(preview: CameraPreview) -> str:
    return "".join(seg.text for y in range(preview.size.height) for seg in preview.render_line(y))


async def test_a_frame_is_drawn_in_half_blocks_with_the_code_outlined() -> None:
    app = PreviewApp()
    async with app.run_test(size=(48, 14)) as pilot:
        preview = app.query_one(CameraPreview)
        assert not preview.has_frame
        assert set(text_of(preview)) <= {" "}
        frame, corners = picture()
        preview.show(frame, corners, decoded=True)
        await pilot.pause()
        assert set(text_of(preview)) == {UPPER_HALF}
        colors = {s.color.get_truecolor() for s in styles_of(preview) if s and s.color}
        assert any(min(c) >= 240 for c in colors)  # the white card
        assert any(max(c) <= 48 for c in colors)  # the dark desk
        assert any(c.green > 200 and c.red < 10 for c in colors)  # the green "found" outline
        preview.show(frame, corners, decoded=False)
        await pilot.pause()
        colors = {s.color.get_truecolor() for s in styles_of(preview) if s and s.color}
        assert any(c.red > 200 and c.green > 200 and c.blue < 10 for c in colors)  # yellow
        preview.clear()
        await pilot.pause()
        assert set(text_of(preview)) <= {" "}


async def test_gray_palette_uses_only_the_16_colour_set() -> None:
    app = PreviewApp("gray")
    async with app.run_test(size=(40, 12)) as pilot:
        preview = app.query_one(CameraPreview)
        frame, corners = picture()
        preview.show(frame[..., 0], corners)  # a grayscale frame is accepted too
        await pilot.pause()
        names: set[str] = set()
        for style in styles_of(preview):
            # every cell of the gray palette sets both colours
            assert style is not None and style.color is not None and style.bgcolor is not None
            names |= {style.color.name, style.bgcolor.name}
        assert names <= ANSI_16
        assert {"bright_white", "bright_yellow"} <= names


async def test_preview_keeps_aspect_and_survives_resizes() -> None:
    app = PreviewApp()
    async with app.run_test(size=(30, 20)) as pilot:
        preview = app.query_one(CameraPreview)
        frame, corners = picture()
        preview.show(frame, corners)
        await pilot.pause()
        rows = [len(preview.render_line(y)) for y in range(preview.size.height)]
        assert all(r >= 1 for r in rows)
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert set(text_of(preview)) == {UPPER_HALF}


def test_the_widget_does_not_import_opencv() -> None:
    code = "import sys, screens.widgets.camera_preview; sys.exit('cv2' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
