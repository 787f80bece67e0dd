"""A live camera preview in half-block characters, with the found code outlined.

Each character cell shows two pixels: the upper one as the foreground of "▀", the lower one as
the background. Frames arrive as small RGB numpy arrays (from the scanner's `Frame` events, a
few per second); the widget only resamples and recolours them, so it never imports OpenCV and
never blocks input. `palette="gray"` draws with the four grays every 16-colour terminal has.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

Palette = Literal["color", "gray"]

UPPER_HALF = "▀"
# The four grays of the 16-colour palette, darkest first (ANSI 0, 8, 7, 15).
_GRAYS = ("black", "bright_black", "white", "bright_white")
_OUTLINE_FOUND = (0, 215, 95)
_OUTLINE_SEEN = (255, 215, 0)
_OUTLINE_ANSI = {_OUTLINE_FOUND: "bright_green", _OUTLINE_SEEN: "bright_yellow"}


@lru_cache(maxsize=4096)
def _rgb_style(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Style:
    return Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))


@lru_cache(maxsize=64)
def _named_style(top: str, bottom: str) -> Style:
    return Style(color=top, bgcolor=bottom)


def fit(frame: np.ndarray, size: Size) -> tuple[np.ndarray, float, float, float, float]:
    """`frame` resampled (nearest pixel) to fit `size` cells, keeping its aspect ratio.

    Returns the pixels (2 rows per cell) and the frame->pixels scale and offset for x and y.
    """
    cols, rows = max(1, size.width), max(1, size.height * 2)
    h, w = frame.shape[:2]
    scale = min(cols / w, rows / h)
    out_w, out_h = max(1, int(w * scale)), max(1, int(h * scale))
    ys = np.minimum((np.arange(out_h) / scale).astype(int), h - 1)
    xs = np.minimum((np.arange(out_w) / scale).astype(int), w - 1)
    pixels = np.zeros((rows + rows % 2, cols, 3), np.uint8)
    ox, oy = (cols - out_w) // 2, ((rows - out_h) // 2) & ~1
    pixels[oy : oy + out_h, ox : ox + out_w] = frame[ys][:, xs][..., :3]
    return pixels, scale, float(ox), scale, float(oy)


def draw_outline(pixels: np.ndarray, corners: np.ndarray, color: tuple[int, int, int]) -> None:
    """A closed polygon through `corners` (pixel coordinates), one pixel wide."""
    h, w = pixels.shape[:2]
    pts = np.asarray(corners, float).reshape(-1, 2)
    for a, b in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        n = int(max(abs(b - a))) + 2
        xs = np.clip(np.rint(np.linspace(a[0], b[0], n)).astype(int), 0, w - 1)
        ys = np.clip(np.rint(np.linspace(a[1], b[1], n)).astype(int), 0, h - 1)
        pixels[ys, xs] = color


class CameraPreview(Widget):
    """Shows the newest camera frame; `show()` is called from the UI thread a few times a second."""

    DEFAULT_CSS = """
    CameraPreview {
        width: 1fr;
        height: 1fr;
        min-height: 6;
        background: $panel;
    }
    """

    palette: reactive[Palette] = reactive("color")

    def __init__(
        self,
        *,
        palette: Palette = "color",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(CameraPreview.palette, palette)
        self._frame: np.ndarray | None = None
        self._corners: np.ndarray | None = None
        self._decoded = False
        self._strips: list[Strip] | None = None

    @property
    def has_frame(self) -> bool:
        return self._frame is not None

    def show(self, frame: np.ndarray | None, corners: np.ndarray | None = None, decoded: bool = False) -> None:
        """Display `frame` (H x W x 3 RGB or H x W gray, uint8) with `corners` in its pixels."""
        if frame is not None and frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=2)
        self._frame = frame
        self._corners = None if corners is None else np.asarray(corners, float).reshape(-1, 2)
        self._decoded = decoded
        self._strips = None
        self.refresh()

    def clear(self) -> None:
        """Forget the picture (leaving the screen, idle wipe)."""
        self.show(None)

    def watch_palette(self) -> None:
        self._strips = None
        self.refresh()

    def on_resize(self) -> None:
        self._strips = None

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._render_strips()
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)

    def _render_strips(self) -> list[Strip]:
        size = self.size
        if self._frame is None or size.width == 0 or size.height == 0:
            return [Strip.blank(size.width) for _ in range(size.height)]
        pixels, sx, ox, sy, oy = fit(self._frame, size)
        if self.palette == "gray":
            pixels = self._to_gray_levels(pixels)
        if self._corners is not None and len(self._corners) >= 2:
            pts = self._corners * [sx, sy] + [ox, oy]
            color = _OUTLINE_FOUND if self._decoded else _OUTLINE_SEEN
            draw_outline(pixels, pts, color)
        return [self._strip(pixels[2 * row], pixels[2 * row + 1]) for row in range(size.height)]

    @staticmethod
    def _to_gray_levels(pixels: np.ndarray) -> np.ndarray:
        """Four gray levels (as index*85 in every channel), so outlines stay distinguishable."""
        luma = pixels @ np.array([0.299, 0.587, 0.114])
        level = np.clip((luma / 64).astype(np.uint8), 0, 3) * 85
        return np.repeat(level[..., None], 3, axis=2).astype(np.uint8)

    def _strip(self, top: np.ndarray, bottom: np.ndarray) -> Strip:
        segments: list[Segment] = []
        gray = self.palette == "gray"
        run_style: Style | None = None
        run = 0
        for t, b in zip(map(tuple, top.tolist()), map(tuple, bottom.tolist()), strict=True):
            style = self._style(t, b, gray)
            if style is run_style:
                run += 1
                continue
            if run_style is not None:
                segments.append(Segment(UPPER_HALF * run, run_style))
            run_style, run = style, 1
        if run_style is not None:
            segments.append(Segment(UPPER_HALF * run, run_style))
        return Strip(segments, len(top))

    @staticmethod
    def _style(top: tuple[int, ...], bottom: tuple[int, ...], gray: bool) -> Style:
        if gray:
            return _named_style(_ansi(top), _ansi(bottom))
        # 6 bits a channel is plenty for a preview and keeps the style cache small.
        t = (top[0] & 0xFC, top[1] & 0xFC, top[2] & 0xFC)
        b = (bottom[0] & 0xFC, bottom[1] & 0xFC, bottom[2] & 0xFC)
        return _rgb_style(t, b)


def _ansi(rgb: tuple[int, ...]) -> str:
    named = _OUTLINE_ANSI.get((rgb[0], rgb[1], rgb[2]))
    if named:
        return named
    return _GRAYS[min(3, rgb[0] // 85)]
