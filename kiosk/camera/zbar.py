"""pyzbar, loaded once; when libzbar is missing the kiosk carries on with OpenCV's decoder."""

from __future__ import annotations

from typing import Any

import numpy as np

_zbar: Any = None
_QR: Any = None
ZBAR_MISSING_REASON: str | None = None

try:
    from pyzbar import pyzbar
    from pyzbar.pyzbar import ZBarSymbol

    _zbar, _QR = pyzbar, [ZBarSymbol.QRCODE]
except (ImportError, OSError) as exc:  # the shared library, not the Python package, is missing
    ZBAR_MISSING_REASON = f"libzbar could not be loaded ({exc.__class__.__name__})"


def zbar_decode(img: np.ndarray) -> tuple[str, np.ndarray] | None:
    """The first QR code zbar finds: its text and corner points, or None."""
    if _zbar is None:
        return None
    # QR only: the 1-D scanners would double the time and only ever add false reads.
    for symbol in _zbar.decode(img, symbols=_QR):
        text = symbol.data.decode("utf-8", errors="replace")
        points = np.array([(p.x, p.y) for p in symbol.polygon], np.float32)
        return text, points
    return None
