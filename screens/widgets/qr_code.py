"""A QR code drawn two modules per character cell, in cell background colours.

Each cell is a space whose background is the module colour (both modules alike) or an upper
half block whose foreground is the top module and background the bottom one. A terminal fills
whatever its glyph leaves uncovered (extra line spacing, a block glyph narrower than the cell)
with the background, so those gaps get a module's colour instead of striping the code.

The quiet zone is four modules where the screen has room; on a short screen it shrinks, never
below one module, and if even that does not fit the screen hides its header and footer
(`-code-fills-screen`, see kiosk.tcss): a phone cannot scan half a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import segno
from rich.segment import Segment
from rich.style import Style
from segno import consts
from textual import events
from textual.strip import Strip
from textual.widget import Widget

QUIET_ZONE = 4
# The standard asks for four modules; below two, giving the code the header's and footer's
# lines is the better trade.
MIN_QUIET_ZONE_WITH_CHROME = 2
MIN_QUIET_ZONE = 1
FILLS_SCREEN = "-code-fills-screen"

# Dark modules on a light ground, which phone cameras expect; ANSI names so it reads the same
# on a 16-colour terminal.
DARK = "black"
LIGHT = "bright_white"
_PAIR = {
    (True, True): (" ", Style(bgcolor=DARK)),
    (False, False): (" ", Style(bgcolor=LIGHT)),
    (True, False): ("▀", Style(color=DARK, bgcolor=LIGHT)),
    (False, True): ("▀", Style(color=LIGHT, bgcolor=DARK)),
}

# The secret (base32) is upper case: QR alphanumeric mode packs it in 5.5 bits a character
# instead of 8, which keeps usernames up to about 60 characters one version smaller.
_ALPHANUMERIC_RUN = re.compile(r"[0-9A-Z $%*+\-./:]{12,}")


def _segments(data: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    pos = 0
    for run in _ALPHANUMERIC_RUN.finditer(data):
        if run.start() > pos:
            out.append((data[pos : run.start()], consts.MODE_BYTE))
        out.append((run.group(), consts.MODE_ALPHANUMERIC))
        pos = run.end()
    if pos < len(data):
        out.append((data[pos:], consts.MODE_BYTE))
    return out


def make_symbol(data: str) -> segno.QRCode:
    """The smallest symbol for `data`: error level L (segno raises it where the version has
    room to spare) and mixed segments where they save space."""
    plain = segno.make_qr(data, error="l")
    # segno takes a list of (text, mode) as manual segmentation; its annotations say str only.
    mixed = segno.make_qr(_segments(data), error="l")  # type: ignore[arg-type]
    return mixed if mixed.symbol_size(border=0)[0] < plain.symbol_size(border=0)[0] else plain


@dataclass(frozen=True)
class Fit:
    top: int
    bottom: int
    side: int


def fit(modules: int, lines: int, minimum: int = MIN_QUIET_ZONE) -> Fit | None:
    """Quiet zones for a symbol of `modules` in `lines` cell rows, or None if it does not fit."""
    spare = 2 * lines - modules
    if spare < 2 * minimum:
        return None
    top = min(QUIET_ZONE, spare // 2)
    return Fit(top, min(QUIET_ZONE, spare - top), QUIET_ZONE)


def code_lines(matrix: list[list[bool]], quiet: Fit) -> list[Strip]:
    """The code with its quiet zone, one strip of cells per line."""
    width = len(matrix[0]) + 2 * quiet.side
    light = [False] * width
    rows = [light] * quiet.top
    rows += [[False] * quiet.side + row + [False] * quiet.side for row in matrix]
    rows += [light] * quiet.bottom
    if len(rows) % 2:
        rows.append(light)
    # One segment per cell, never merged: an SVG screenshot rasterizer lays a run of glyphs out
    # by the font's advance rather than the cell grid, and a long run drifts off its modules.
    return [
        Strip([Segment(*_PAIR[(a, b)]) for a, b in zip(top, bottom, strict=True)])
        for top, bottom in zip(rows[::2], rows[1::2], strict=True)
    ]


class QrCode(Widget):
    DEFAULT_CSS = """
    QrCode { width: auto; height: 100%; }
    """

    def __init__(self, data: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._matrix = [[bool(m) for m in row] for row in make_symbol(data).matrix_iter(border=0)]
        # Lines the screen's header and footer take, measured while they were shown.
        self._chrome = 0
        self._drawn: tuple[Fit, list[Strip]] | None = None

    @property
    def modules(self) -> int:
        return len(self._matrix)

    def quiet_zone(self) -> Fit:
        return fit(self.modules, self.size.height) or Fit(MIN_QUIET_ZONE, MIN_QUIET_ZONE, QUIET_ZONE)

    def get_content_width(self, container: object, viewport: object) -> int:
        return self.modules + 2 * QUIET_ZONE if self._matrix else 0

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return (self.modules + 2 * QUIET_ZONE + 1) // 2

    def on_resize(self, event: events.Resize) -> None:
        if not self._matrix:
            return
        screen = self.screen
        lines = event.size.height
        if not screen.has_class(FILLS_SCREEN):
            if fit(self.modules, lines, MIN_QUIET_ZONE_WITH_CHROME) is None:
                self._chrome = max(screen.size.height - lines, 0)
                screen.add_class(FILLS_SCREEN)
        elif fit(self.modules, lines - self._chrome, MIN_QUIET_ZONE_WITH_CHROME) is not None:
            screen.remove_class(FILLS_SCREEN)

    def render_line(self, y: int) -> Strip:
        # Below the code (and once cleared) the widget shows what is behind it.
        blank = Strip.blank(self.size.width, self.rich_style)
        if not self._matrix:
            return blank
        quiet = self.quiet_zone()
        if self._drawn is None or self._drawn[0] != quiet:
            self._drawn = (quiet, code_lines(self._matrix, quiet))
        lines = self._drawn[1]
        return lines[y] if y < len(lines) else blank

    def clear(self) -> None:
        """Forget the code (the secret is in it) and draw nothing."""
        self._matrix = []
        self._drawn = None
        self.screen.remove_class(FILLS_SCREEN)
        self.refresh(layout=True)
