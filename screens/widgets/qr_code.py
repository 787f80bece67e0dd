"""A QR code drawn with half-block characters: two modules per character cell, so a version-5
code fits in 21 lines. Dark modules on a light ground, which phone cameras expect, in plain
black and white so it reads on a 16-colour terminal."""

from __future__ import annotations

import segno
from rich.text import Text
from textual.widget import Widget

_CELLS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def qr_lines(data: str, border: int = 2) -> list[str]:
    qr = segno.make_qr(data, error="l")
    rows = [[bool(m) for m in row] for row in qr.matrix_iter(border=border)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return [
        "".join(_CELLS[(a, b)] for a, b in zip(top, bottom, strict=True))
        for top, bottom in zip(rows[::2], rows[1::2], strict=True)
    ]


class QrCode(Widget):
    DEFAULT_CSS = """
    QrCode { width: auto; height: auto; }
    """

    def __init__(self, data: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines = qr_lines(data)

    def get_content_width(self, container: object, viewport: object) -> int:
        return len(self._lines[0]) if self._lines else 0

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self._lines)

    def render(self) -> Text:
        return Text("\n".join(self._lines), style="black on white", no_wrap=True)

    def clear(self) -> None:
        """Forget the code (the secret is in it) and draw nothing."""
        self._lines = [""]
        self.refresh(layout=True)
