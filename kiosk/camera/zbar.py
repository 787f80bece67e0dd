"""libzbar through pyzbar's ctypes bindings, asked for raw bytes; without libzbar, OpenCV reads.

`pyzbar.decode` lets zbar turn a code's bytes into text by guessing the character set, and the
guess is often wrong (Shift-JIS or Big5 payloads come out as other text). zbar's BINARY option
hands back the bytes as they are, so the decoder decides what they mean. pyzbar does not expose
the option, hence this small scanner on pyzbar's own wrapper functions.
"""

from __future__ import annotations

from ctypes import c_void_p, cast, string_at
from typing import Any

import numpy as np

Symbol = tuple[bytes, np.ndarray]  # raw payload, corner points in image pixels

_w: Any = None
ZBAR_MISSING_REASON: str | None = None

try:
    from pyzbar import wrapper as _wrapper

    _w = _wrapper
except (ImportError, OSError) as exc:  # the shared library, not the Python package, is missing
    ZBAR_MISSING_REASON = f"libzbar could not be loaded ({exc.__class__.__name__})"

_CFG_ENABLE = 0
_CFG_BINARY = 4  # ZBAR_CFG_BINARY (zbar >= 0.23.1); older libraries ignore it and return text
_CFG_X_DENSITY, _CFG_Y_DENSITY = 0x100, 0x101
_GREY = 0x30303859  # fourcc "Y800": 8-bit grayscale
_ALL_SYMBOLOGIES = 0


class ZbarReader:
    """One zbar image scanner, kept for the reader's life (one per thread, as zbar wants)."""

    def __init__(self) -> None:
        if _w is None:
            raise RuntimeError(ZBAR_MISSING_REASON or "libzbar is missing")
        self._scanner = _w.zbar_image_scanner_create()
        qr = int(_w.ZBarSymbol.QRCODE)
        # QR only: the 1-D scanners would double the time and only ever add false reads.
        _w.zbar_image_scanner_set_config(self._scanner, _ALL_SYMBOLOGIES, _CFG_ENABLE, 0)
        _w.zbar_image_scanner_set_config(self._scanner, qr, _CFG_ENABLE, 1)
        _w.zbar_image_scanner_set_config(self._scanner, qr, _CFG_BINARY, 1)
        self._density = 0

    def _set_density(self, density: int) -> None:
        if density != self._density:
            for config in (_CFG_X_DENSITY, _CFG_Y_DENSITY):
                _w.zbar_image_scanner_set_config(self._scanner, _ALL_SYMBOLOGIES, config, density)
            self._density = density

    def read(self, img: np.ndarray, density: int = 1) -> list[Symbol]:
        """Every QR code zbar finds in a grayscale image, scanning every `density`-th line
        (2 halves the time and still finds codes of 3 px per module or more)."""
        self._set_density(density)
        pixels = np.ascontiguousarray(img, dtype=np.uint8)
        height, width = pixels.shape[:2]
        image = _w.zbar_image_create()
        try:
            _w.zbar_image_set_format(image, _GREY)
            _w.zbar_image_set_size(image, width, height)
            # zbar reads the buffer in place; `pixels` outlives the scan below.
            _w.zbar_image_set_data(image, cast(pixels.ctypes.data, c_void_p), pixels.size, None)
            if _w.zbar_scan_image(self._scanner, image) <= 0:
                return []
            found: list[Symbol] = []
            symbol = _w.zbar_image_first_symbol(image)
            while symbol:
                data = string_at(_w.zbar_symbol_get_data(symbol), _w.zbar_symbol_get_data_length(symbol))
                n = _w.zbar_symbol_get_loc_size(symbol)
                pts = [(_w.zbar_symbol_get_loc_x(symbol, i), _w.zbar_symbol_get_loc_y(symbol, i)) for i in range(n)]
                found.append((data, np.array(pts, np.float32).reshape(-1, 2)))
                symbol = _w.zbar_symbol_next(symbol)
            return found
        finally:
            _w.zbar_image_destroy(image)

    def __del__(self) -> None:
        scanner = getattr(self, "_scanner", None)
        if scanner and _w is not None:
            _w.zbar_image_scanner_destroy(scanner)
