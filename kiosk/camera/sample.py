"""Reading a bent code module by module: the grid found again in its own edges, then redrawn.

The landmark fit (grid.py) pins a code at its finder and alignment patterns, a few per side; a
code round a bottle or on a wrinkled sheet bends between them by a good part of a module, and
zbar, which reads scan lines across the image, loses the module clock there. But a QR code's
modules are a square grid, so its edges are a local clock too: in a window of a few modules,
vertical edges fall on x = i * s of the straightened image and horizontal ones on y = j * s
when the fit is right, and the phase of the edge strength against that comb says by how much
the fit is off there (under half a module). Each round moves the fit by that local offset
(smoothly: each window averages over several modules), with smaller windows as the fit gets
close. Then every module centre is sampled, thresholded against its neighbourhood (shading
across a bottle), and the code redrawn clean at `PX_PER_MODULE` with its fixed finder and
timing patterns and a quiet zone: what zbar reads best, as zxing-cpp samples modules itself.
"""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.camera.locate import Variant

S = 5  # px per module (odd: see dense_map) of the image whose edges are measured
PX_PER_MODULE = 4  # the redrawn code handed to zbar
QUIET = 4  # modules of quiet zone round the redrawn code
WINDOWS = (9, 5)  # modules across each round's window (coarse to fine)
NAME = "finders/sampled"


def work(redrawn_side: int) -> int:
    """The decoder budget charged for the sampling behind a redrawn code `redrawn_side` px
    across: the straightened image is drawn and filtered once for the timing lines, once a
    round and once to sample; each such pass costs about what zbar does on half as many
    pixels (measured: ~4 ms for a version 12 code, against ~2.7 ms for zbar on 365 x 365)."""
    side = redrawn_side // PX_PER_MODULE * S
    return side * side * (len(WINDOWS) + 2) // 2


def dense_map(coarse: np.ndarray, s: int = S) -> np.ndarray:
    """Frame coordinates of every pixel of an image of `s` (odd) px per module, interpolated
    from their values at every module corner (`coarse`: (m+1, m+1, 2), corner (i, j) at
    [j, i]). Pixel i * s is corner i exactly: cv2.resize to the image's size would align pixel
    centres, not corners, and stretch the grid by up to half a module at its ends; scaled by
    exactly `s` its pixel i * s + (s - 1) / 2 is corner i."""
    m = coarse.shape[0] - 1
    big = cv2.resize(coarse.astype(np.float32), None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
    o = (s - 1) // 2
    return np.asarray(big[o : o + m * s + 1, o : o + m * s + 1])


def _offsets(img: np.ndarray, inside: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """How far the module grid's edges sit from where the fit puts them, at every pixel, in
    pixels along x and y: the phase of the edge strength against a comb of period S."""
    size = img.shape[0]
    angle = 2 * np.pi * np.arange(size) / S
    cos, sin = np.cos(angle).astype(np.float32), -np.sin(angle).astype(np.float32)
    k = (window * S) | 1
    out = []
    for dx, dy in ((1, 0), (0, 1)):
        edges = cv2.multiply(np.abs(cv2.Sobel(img, cv2.CV_32F, dx, dy, ksize=3)), inside)
        c, s = (cos[None, :], sin[None, :]) if dx else (cos[:, None], sin[:, None])
        re = cv2.boxFilter(edges * c, -1, (k, k))
        im = cv2.boxFilter(edges * s, -1, (k, k))
        turn = cv2.phase(re, im) * np.float32(1 / (2 * np.pi))  # 0 .. 1 of a module
        out.append(np.float32(-S) * (turn - (turn > 0.5)))
    return out[0], out[1]


def _timing_offsets(img: np.ndarray, n: int, margin: int, across: bool) -> np.ndarray | None:
    """Where the straightened image's pixel columns (rows if not `across`) should be read from,
    by the timing line (row 6, or column 6) and the finders' bottom (right) rings it joins: its
    dark/light edges fall on module boundaries 0, 7, 8 .. n - 8, n - 7 and n, one by one, so
    each module's width along the line is measured. None if its edges cannot be paired with
    those boundaries one to one (a smudge, a wrong version)."""
    line = (margin + 6.5) * S
    rows = img[int(line) - 1 : int(line) + 2, :] if across else img[:, int(line) - 1 : int(line) + 2].T
    profile = rows.astype(np.float32).mean(axis=0)
    level = cv2.blur(profile.reshape(1, -1), (2 * S + 1, 1), borderType=cv2.BORDER_REFLECT).ravel()
    lo, hi = int((margin - 1.5) * S), int((margin + n + 1.5) * S)
    d = profile[lo:hi] - level[lo:hi]
    flips = _edges(d, 0.2 * float(np.std(d)))
    ideal = (margin + np.array([0, *range(7, n - 6), n], np.float64)) * S
    # An edge lost or a stray one at either end (a finder's blur): the finders pin the ends,
    # so the pairing that moves the line least is the right one.
    short = min(len(flips), len(ideal))
    if len(flips) < len(ideal) - 2 or len(flips) > len(ideal) + 2 or short < 2:
        return None
    pairs = [
        (lo + flips[a : a + short], ideal[b : b + short])
        for a in range(len(flips) - short + 1)
        for b in range(len(ideal) - short + 1)
    ]
    found, ideal = min(pairs, key=lambda p: float(np.abs(p[0] - p[1]).mean()))
    # An edge lost or doubled mid-line would show as a module twice or half as wide as its
    # neighbours; a bend changes widths slowly.
    widths = np.diff(found) / np.diff(ideal)
    if widths.min() < 0.6 or widths.max() > 1.5:
        return None
    size = img.shape[1] if across else img.shape[0]
    at = np.arange(size, dtype=np.float64)
    # Outside the line the finders hold the fit: the offset stays what it is at the line's ends.
    return np.asarray(at + np.interp(at, ideal, found - ideal), np.float32)


def _edges(d: np.ndarray, dead: float) -> np.ndarray:
    """Sub-pixel places where `d` changes sign for good: a swing inside the dead band
    (noise on a module) is no edge."""
    out: list[float] = []
    state = 0
    last = 0
    for i, v in enumerate(d):
        side = 1 if v > dead else -1 if v < -dead else 0
        if side == 0:
            continue
        if state and side != state:
            # The crossing between the last sample on the old side and this one.
            seg = d[last : i + 1]
            j = last + int(np.nonzero(np.signbit(seg[:-1]) != np.signbit(seg[1:]))[0][0])
            out.append(j + float(d[j] / (d[j] - d[j + 1])) if d[j] != d[j + 1] else float(j))
        state, last = side, i
    return np.array(out, np.float64)


def _straightened(gray: np.ndarray, coarse: np.ndarray, paper: int) -> np.ndarray:
    frame_map = dense_map(coarse)
    return np.asarray(cv2.remap(gray, frame_map[..., 0], frame_map[..., 1], cv2.INTER_LINEAR, borderValue=paper))


def _moved(coarse: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """`coarse` (module corners -> frame) read at straightened pixels (x, y) of each corner."""
    dense = dense_map(coarse)
    return np.asarray(cv2.remap(dense, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))


def along_timing(gray: np.ndarray, coarse: np.ndarray, n: int, margin: int, paper: int) -> np.ndarray:
    """`coarse` with each module column and row moved to where the timing lines show it:
    a code round a cylinder whose axis is near one side bends along that side only, the same
    for every row, so one line of modules measures the whole bend."""
    img = _straightened(gray, coarse, paper)
    corner = np.arange(coarse.shape[0]) * S
    xs = _timing_offsets(img, n, margin, True)
    ys = _timing_offsets(img, n, margin, False)
    at_x = (corner if xs is None else xs[corner]).astype(np.float32)
    at_y = (corner if ys is None else ys[corner]).astype(np.float32)
    m = len(corner)
    return _moved(coarse, np.broadcast_to(at_x[None, :], (m, m)).copy(), np.broadcast_to(at_y[:, None], (m, m)).copy())


def refine(gray: np.ndarray, coarse: np.ndarray, n: int, margin: int, paper: int) -> np.ndarray:
    """`coarse` (module corners -> frame) moved onto the code's own module edges."""
    size = (coarse.shape[0] - 1) * S + 1
    corner = (np.arange(coarse.shape[0]) * S).astype(np.float32)
    cx, cy = np.meshgrid(corner, corner)
    at = corner.astype(int)
    # Only the code's own edges count: the card's outline and what lies round it are no clock.
    inside = np.zeros((size, size), np.float32)
    lo, hi = margin * S, (margin + n) * S
    inside[lo : hi + 1, lo : hi + 1] = 1.0
    for window in WINDOWS:
        ox, oy = _offsets(_straightened(gray, coarse, paper), inside, window)
        coarse = _moved(coarse, cx + ox[np.ix_(at, at)], cy + oy[np.ix_(at, at)])
    return coarse


def _fixed_patterns(mods: np.ndarray) -> None:
    """Finder patterns, their separators and the timing lines, as every code has them."""
    n = mods.shape[0]
    finder = np.ones((7, 7), np.uint8)
    finder[1:6, 1:6] = 0
    finder[2:5, 2:5] = 1
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        mods[max(0, r - 1) : r + 8, max(0, c - 1) : c + 8] = 0
        mods[r : r + 7, c : c + 7] = finder
    timing = (np.arange(8, n - 8) % 2 == 0).astype(np.uint8)
    mods[6, 8 : n - 8] = timing
    mods[8 : n - 8, 6] = timing


def modules(gray: np.ndarray, coarse: np.ndarray, n: int, margin: int, paper: int) -> np.ndarray:
    """The code's modules (1 = dark), each its centre's gray level against its neighbours'."""
    img = _straightened(gray, coarse, paper)
    # An even box's anchor is right of its middle: the 4 x 4 box at pixel i * S + 3 covers
    # pixels i * S + 1 .. i * S + 4, centred on the module centre (i + 0.5) * S.
    core = cv2.blur(img.astype(np.float32), (S - 1, S - 1))
    at = (np.arange(n) + margin) * S + S // 2 + 1
    values = core[np.ix_(at, at)]
    # Half the modules are dark: the local mean splits them even where the light falls off.
    level = cv2.blur(values, (7, 7), borderType=cv2.BORDER_REFLECT)
    mods = np.asarray(values < level, np.uint8)
    _fixed_patterns(mods)
    return mods


def redrawn(mods: np.ndarray) -> np.ndarray:
    img = np.pad(np.where(mods == 1, 0, 255).astype(np.uint8), QUIET, constant_values=255)
    return np.asarray(cv2.resize(img, None, fx=PX_PER_MODULE, fy=PX_PER_MODULE, interpolation=cv2.INTER_NEAREST))


def sampled(gray: np.ndarray, coarse: np.ndarray, n: int, margin: int, paper: int) -> Variant:
    """The code of n modules whose module corners (with `margin` modules round it) land on the
    frame at `coarse`, sampled module by module and redrawn clean; its homography back to the
    frame maps the redrawn code's corners onto the fitted ones."""
    coarse = refine(gray, along_timing(gray, coarse, n, margin, paper), n, margin, paper)
    img = redrawn(modules(gray, coarse, n, margin, paper))
    lo, hi = margin, margin + n
    corners = np.array([coarse[lo, lo], coarse[lo, hi], coarse[hi, hi], coarse[hi, lo]], np.float32)
    a, b = QUIET * PX_PER_MODULE, (QUIET + n) * PX_PER_MODULE
    drawn = np.array([[a, a], [b, a], [b, b], [a, b]], np.float32)
    to_frame = cv2.getPerspectiveTransform(drawn, corners).astype(np.float64)
    return NAME, img, to_frame


def drawn_corners(side: int) -> np.ndarray:
    """The code's corner pixels (TL, TR, BR, BL) in a redrawn image `side` px across: inside
    the quiet zone, the last pixel of the last module (where OpenCV's detector puts them)."""
    a, b = QUIET * PX_PER_MODULE, side - QUIET * PX_PER_MODULE - 1
    return np.array([[a, a], [b, a], [b, b], [a, b]], np.float32)
