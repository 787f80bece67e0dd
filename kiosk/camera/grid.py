"""The code's own grid: its finder and alignment patterns, for tilted and curved codes.

The patch finder's outline of a steeply tilted code is often a poor quadrilateral (one corner
cut off), and a code on a bottle or a wrinkled sheet is no quadrilateral at all; zbar reads
neither. Every QR code carries landmarks at known module positions: three finder patterns
(7x7 modules) and, from version 2 on, a lattice of alignment patterns (5x5). Found in the
image, they give a homography from the code's module grid to the frame (`finders`), and
their leftover offsets a smooth correction for the bend (`dewarped`), both drawn upright at a
few pixels per module with a quiet zone for zbar.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import cv2
import numpy as np

from kiosk.camera import sample
from kiosk.camera.locate import Quad, Variant

WORK_SIDE = 480  # the patch is searched at about 6 px per module
WORK_PAD = 0.14  # kept round the patch outline: a cut-off corner's finder is still inside
PX_PER_MODULE = 5  # the straightened code handed to zbar
QUIET = 4  # modules of paper added round it
MIN_MATCH = 0.65  # template score an alignment pattern needs to count as found
Finder = tuple[np.ndarray, float, np.ndarray]  # centre, module size (work pixels), outline


def alignment_positions(version: int) -> list[int]:
    """Row/column indices of the alignment pattern centres (ISO/IEC 18004, annex E)."""
    if version < 2:
        return []
    count = version // 7 + 2
    step = (version * 8 + count * 3 + 5) // (count * 4 - 4) * 2
    last = version * 4 + 10
    return [6, *sorted(last - i * step for i in range(count - 1))]


def finder_patterns(work: np.ndarray) -> tuple[list[Finder], np.ndarray]:
    """Dark square rings round a dark core, as contours nested three deep; and the dark
    modules of `work` (255) they were found in."""
    smooth = cv2.GaussianBlur(work, (0, 0), 1.0)
    binary = cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 51, 7)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return [], binary
    tree = hierarchy[0]
    found: list[tuple[float, Finder]] = []
    for i, contour in enumerate(contours):
        hole = int(tree[i][2])
        core = int(tree[hole][2]) if hole >= 0 else -1
        if core < 0:
            continue
        outer, inner = cv2.contourArea(contour), cv2.contourArea(contours[core])
        # 49 : 9 modules squared in a flat finder; wide bounds for blur, tilt and bends.
        if outer < 150 or inner <= 0 or not 2.5 <= outer / inner <= 14:
            continue
        (_, _), (w, h), _ = cv2.minAreaRect(contour)
        if min(w, h) <= 0 or max(w, h) / min(w, h) > 2.2:
            continue
        m = cv2.moments(contours[core])
        if m["m00"] <= 0:
            continue
        centre = np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]], np.float64)
        found.append((outer, (centre, float(np.sqrt(outer)) / 7.0, contour.reshape(-1, 2))))
    found.sort(key=lambda t: -t[0])
    return [f for _, f in found[:8]], binary


def corner_trio(finders: list[Finder]) -> tuple[Finder, Finder, Finder] | None:
    """The three finders of one code as top-left, top-right, bottom-left: the largest right-ish
    triangle of finders of about one size (a smaller code printed inside is not mixed in)."""
    best: tuple[float, tuple[Finder, Finder, Finder]] | None = None
    for trio in combinations(finders, 3):
        sizes = [f[1] for f in trio]
        if max(sizes) > 1.8 * min(sizes):
            continue
        pts = [f[0] for f in trio]
        # The corner finder faces the longest side.
        sides = [np.linalg.norm(pts[(k + 1) % 3] - pts[(k + 2) % 3]) for k in range(3)]
        k = int(np.argmax(sides))
        tl, a, b = trio[k], trio[(k + 1) % 3], trio[(k + 2) % 3]
        va, vb = a[0] - tl[0], b[0] - tl[0]
        la, lb = float(np.linalg.norm(va)), float(np.linalg.norm(vb))
        if min(la, lb) < 10 * max(sizes) or max(la, lb) > 2.0 * min(la, lb):
            continue
        if abs(float(va @ vb)) / (la * lb) > 0.5:
            continue
        cross = float(va[0] * vb[1] - va[1] * vb[0])
        tr, bl = (a, b) if cross > 0 else (b, a)
        area = abs(cross)
        if best is None or area > best[0]:
            best = (area, (tl, tr, bl))
    return None if best is None else best[1]


def _version_codeword(version: int) -> int:
    """The 18-bit version information: 6 bits of version, 12 of BCH(18, 6) check bits."""
    rem = version << 12
    for bit in range(17, 11, -1):
        if rem >> bit & 1:
            rem ^= 0x1F25 << (bit - 12)
    return version << 12 | rem


_VERSION_WORDS = {v: _version_codeword(v) for v in range(7, 41)}


def _module_steps(finder: Finder, across: np.ndarray, down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One module to the right and one down at this finder: a bent code's modules are
    narrower near its edges than the finders' spacing says, so measure them on the finder."""
    centre, _, outline = finder
    steps = []
    for axis in (across, down):
        unit = axis / max(float(np.linalg.norm(axis)), 1e-9)
        extent = float(np.ptp((outline - centre) @ unit))
        steps.append(unit * extent / 7.0)
    return steps[0], steps[1]


def read_version(binary: np.ndarray, trio: tuple[Finder, Finder, Finder]) -> int | None:
    """The version from its two 6x3 information blocks beside the top-right and bottom-left
    finders (codes of version 7 and up), corrected as BCH allows (3 bits); None if neither
    block reads."""
    tl, tr, bl = trio
    across, down = tr[0] - tl[0], bl[0] - tl[0]
    h, w = binary.shape
    best: tuple[int, int] | None = None
    for finder, transpose in ((tr, False), (bl, True)):
        ex, ey = _module_steps(finder, across, down)
        word = 0
        for i in range(18):
            dx, dy = (i // 3 - 3, i % 3 - 7) if transpose else (i % 3 - 7, i // 3 - 3)
            x, y = finder[0] + dx * ex + dy * ey
            if not (0 <= x < w and 0 <= y < h):
                break
            word |= (1 if binary[int(y), int(x)] else 0) << i
        else:
            for version, valid in _VERSION_WORDS.items():
                distance = (word ^ valid).bit_count()
                if distance <= 3 and (best is None or distance < best[0]):
                    best = (distance, version)
    return None if best is None else best[1]


def _template(k: int) -> np.ndarray:
    mods = np.zeros((5, 5), np.uint8)
    mods[1:4, 1:4] = 255
    mods[2, 2] = 0
    return np.asarray(cv2.resize(mods, (5 * k, 5 * k), interpolation=cv2.INTER_NEAREST), np.float32)


_K = 6  # px per module where alignment patterns are looked for
_TEMPLATE = _template(_K)
_SEARCH = 4.5  # modules either side of the expected centre


def _fit(ideal: list[tuple[float, float]], seen: list[np.ndarray]) -> np.ndarray:
    src = np.array(ideal, np.float64)
    dst = np.array(seen, np.float64)
    if len(src) == 3:
        a = cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32))
        return np.vstack([a, [0, 0, 1]]).astype(np.float64)
    h, _ = cv2.findHomography(src, dst, 0)
    return np.asarray(h, np.float64)


def _apply(h: np.ndarray, u: float, v: float) -> np.ndarray:
    p = h @ np.array([u, v, 1.0])
    return np.asarray(p[:2] / p[2], np.float64)


def _look_for_alignment(work: np.ndarray, h: np.ndarray, u: float, v: float) -> np.ndarray | None:
    """Where the alignment pattern centred on module (u, v) really is, in work pixels."""
    half = _SEARCH + 2.5
    n = round(2 * half * _K)
    # Module space round (u, v) at _K px per module, drawn from the work image through `h`.
    to_ideal = np.array([[1 / _K, 0, u - half], [0, 1 / _K, v - half], [0, 0, 1]], np.float64)
    patch = cv2.warpPerspective(work, h @ to_ideal, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    scores = cv2.matchTemplate(patch.astype(np.float32), _TEMPLATE, cv2.TM_CCOEFF_NORMED)
    _, score, _, (x, y) = cv2.minMaxLoc(scores)
    if score < MIN_MATCH:
        return None
    du = (x + 2.5 * _K) / _K - half
    dv = (y + 2.5 * _K) / _K - half
    return _apply(h, u + du, v + dv)


def _tps(nodes: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Thin-plate spline through `values` at `nodes`, evaluated `at` (smooth, exact at nodes)."""

    def kernel(r2: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 0.5 * r2 * np.log(r2)
        return np.asarray(np.nan_to_num(out), np.float64)

    n = len(nodes)
    d2 = ((nodes[:, None, :] - nodes[None, :, :]) ** 2).sum(-1)
    p = np.hstack([np.ones((n, 1)), nodes])
    a = np.zeros((n + 3, n + 3))
    a[:n, :n] = kernel(d2) + np.eye(n) * 1e-3
    a[:n, n:] = p
    a[n:, :n] = p.T
    rhs = np.vstack([values, np.zeros((3, values.shape[1]))])
    coef = np.linalg.lstsq(a, rhs, rcond=None)[0]
    q2 = ((at[:, None, :] - nodes[None, :, :]) ** 2).sum(-1)
    return np.asarray(kernel(q2) @ coef[:n] + np.hstack([np.ones((len(at), 1)), at]) @ coef[n:], np.float64)


def _lattice(
    work: np.ndarray, trio: tuple[Finder, Finder, Finder], version: int
) -> tuple[int, list[tuple[float, float]], list[np.ndarray], np.ndarray]:
    """The landmarks of a code of `version` found in `work`: module positions, work pixels,
    and the homography fitted to them."""
    n = 17 + 4 * version
    ideal = [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5)]
    seen = [f[0] for f in trio]
    h = _fit(ideal, seen)
    positions = alignment_positions(version)
    if not positions:
        return version, ideal, seen, h
    corners = {(positions[0], positions[0]), (positions[-1], positions[0]), (positions[0], positions[-1])}
    lattice = [(x, y) for y in positions for x in positions if (x, y) not in corners]
    # Nearest the finders first: each one found sharpens the guess of where the next one is.
    lattice.sort(key=lambda p: (max(p), p))
    for x, y in lattice:
        at = _look_for_alignment(work, h, x + 0.5, y + 0.5)
        if at is not None:
            ideal.append((x + 0.5, y + 0.5))
            seen.append(at)
            h = _fit(ideal, seen)
    return version, ideal, seen, h


def straightened(gray: np.ndarray, quad: Quad, paper: int) -> Iterator[Variant]:
    """The code found by its own patterns: upright by homography, then with the bend undone."""
    pad = WORK_SIDE * WORK_PAD
    inner = WORK_SIDE - 2 * pad
    dst = np.array([[0, 0], [inner, 0], [inner, inner], [0, inner]], np.float32) + np.float32(pad)
    to_work = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    work = cv2.warpPerspective(gray, to_work, (WORK_SIDE, WORK_SIDE), flags=cv2.INTER_LINEAR, borderValue=paper)
    finders, binary = finder_patterns(work)
    trio = corner_trio(finders)
    if trio is None:
        return
    (tl, m_tl, _), (tr, m_tr, _), (bl, m_bl, _) = trio
    across = float(np.linalg.norm(tr - tl)) / ((m_tl + m_tr) / 2)
    down = float(np.linalg.norm(bl - tl)) / ((m_tl + m_bl) / 2)
    guess = int(np.clip(round(((across + down) / 2 + 7 - 17) / 4), 1, 40))
    # A bent or steeply tilted code shows its finders closer or further apart than they are:
    # the version is read from the code if it says (7 and up), else the one whose alignment
    # lattice is found best.
    read = read_version(binary, trio)
    # Below version 7 the blocks' place holds data, which can pass for a far-off version.
    tries = (read,) if read is not None and abs(read - guess) <= 3 else (guess, guess - 1, guess + 1)
    fits = [_lattice(work, trio, v) for v in tries if 1 <= v <= 40]
    version, ideal, seen, h = max(fits, key=lambda f: len(f[1]))
    n = 17 + 4 * version
    to_frame = np.linalg.inv(to_work)
    side = (n + 2 * QUIET) * PX_PER_MODULE
    to_out = np.array([[1 / PX_PER_MODULE, 0, -QUIET], [0, 1 / PX_PER_MODULE, -QUIET], [0, 0, 1]], np.float64)
    flat = to_frame @ h @ to_out  # output pixels -> frame pixels
    img = cv2.warpPerspective(
        gray, flat, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=paper
    )
    yield "finders", img, flat
    coarse = np.arange(-QUIET, n + QUIET + 1, 1.0)
    uu, vv = np.meshgrid(coarse, coarse)
    grid_pts = np.stack([uu.ravel(), vv.ravel()], axis=1)
    if len(ideal) >= 5:
        # Where each landmark sits, in module units, against where the homography puts it.
        h_inv = np.linalg.inv(h)
        nodes = np.array(ideal, np.float64)
        off = np.array([_apply(h_inv, *p) for p in seen]) - nodes
        grid_pts = grid_pts + _tps(nodes, off, grid_pts)
    # Too few landmarks to say how the code bends: the module sampling starts from the plane.
    src = cv2.perspectiveTransform(grid_pts.reshape(-1, 1, 2), to_frame @ h).reshape(len(coarse), len(coarse), 2)
    if len(ideal) >= 5:
        dense = sample.dense_map(src, PX_PER_MODULE)
        bent = cv2.remap(gray, dense[..., 0], dense[..., 1], cv2.INTER_LINEAR, borderValue=paper)
        yield "finders/dewarped", bent, flat
    yield sample.sampled(gray, src, n, QUIET, paper)
