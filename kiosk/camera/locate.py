"""Where a QR code may be in a frame, and the images of it the decoder tries (the "variants").

The printed card is a dense, square-ish patch of edges: a morphological gradient on a 1/4-size
image finds it in ~1 ms. Each variant is a grayscale image plus the homography that maps its
pixels back to the frame, so a decoded code's corners can be drawn on the preview.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

Quad = np.ndarray  # 4x2 float32 corner points in frame pixels, clockwise from top-left
Variant = tuple[str, np.ndarray, np.ndarray]  # rung name, grayscale image, image->frame homography

_K3 = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
_K7 = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
_K11 = cv2.getStructuringElement(cv2.MORPH_RECT, (11, 11))
LOCATE_WIDTH = 320  # the patch finder's working width: ~1 ms, and a 100 px code still shows
MAX_CANDIDATES = 3
# The smallest patch worth a look, as a share of the frame's short side: 85 px in a 240 px
# frame is a readable code that a fixed 90 px floor dropped; 8% keeps ~58 px at 720p.
MIN_SIDE_SHARE = 0.08
MIN_SIDE_PX = 16
# A card is ~73 modules (code + quiet zone): 320 px gives zbar ~4 px per module, its sweet
# spot for speed; 480 px (~6 px) leaves room for the clean-ups.
CARD_MODULES = 73
ZBAR_PITCH = 3.5  # px per module zbar reads reliably; bigger crops are shrunk to it first
# zbar needs a quiet zone; a code cropped to its edge (or a photo that fills the frame) gets a
# white border this wide, as a share of the image side (~4 modules of a 57-module code).
BORDER_SHARE = 0.08


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def order_corners(quad: np.ndarray) -> Quad:
    """Four corners as top-left, top-right, bottom-right, bottom-left (by angle about the centre)."""
    pts = quad.reshape(-1, 2).astype(np.float32)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise on screen (y grows downwards)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def paper_level(gray: np.ndarray) -> int:
    """The gray level of the paper (a bright percentile): the colour of an added quiet zone."""
    step = max(1, gray.shape[1] // 160)
    return int(np.percentile(gray[::step, ::step], 95))


def locate(gray: np.ndarray) -> list[Quad]:
    """Candidate code patches, biggest first, as quadrilaterals in frame pixels."""
    f = max(1.0, gray.shape[1] / LOCATE_WIDTH)
    small = cv2.resize(gray, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA)
    edges = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, _K3)
    _, mask = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # Closing fills the code into one blob; opening drops thin lines and text strokes. A label
    # or a line touching the card can survive the first opening glued to it, so a wider one
    # gets a second try (it would erase a code under ~11 px at this scale, ~45 px in the frame).
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _K7)
    min_side = max(MIN_SIDE_PX, MIN_SIDE_SHARE * min(gray.shape[:2]))
    found: list[Quad] = []
    for kernel in (_K7, _K11):
        found = _square_blobs(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), f, min_side)
        if found:
            break
    return found


def _square_blobs(mask: np.ndarray, f: float, min_side: float) -> list[Quad]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = (min_side / f) ** 2
    found: list[tuple[float, Quad]] = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < min_area:
            continue
        (_, _), (w, h), _ = cv2.minAreaRect(contour)
        if min(w, h) < 1 or max(w, h) / min(w, h) > 2.5 or area / (w * h) < 0.6:
            continue
        found.append((area, _quad_of(contour) * f))
    found.sort(key=lambda t: -t[0])
    return [q for _, q in found[:MAX_CANDIDATES]]


def _quad_of(contour: np.ndarray) -> Quad:
    """The patch's four corners: the hull simplified to 4 points, else its min-area box."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return order_corners(approx.astype(np.float32))
    return order_corners(cv2.boxPoints(cv2.minAreaRect(contour)))


def _shift(to_frame: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """`to_frame` for the same image with a border of (dx, dy) added on the left and top."""
    return to_frame @ np.array([[1, 0, -dx], [0, 1, -dy], [0, 0, 1]], np.float64)


def bordered(variant: Variant, paper: int, share: float = BORDER_SHARE) -> Variant:
    """The variant with a quiet zone of paper colour around it."""
    name, img, to_frame = variant
    b = max(4, round(share * max(img.shape[:2])))
    out = cv2.copyMakeBorder(img, b, b, b, b, cv2.BORDER_CONSTANT, value=paper)
    return name, out, _shift(to_frame, b, b)


def whole_frame(gray: np.ndarray, width: int, paper: int) -> Iterator[Variant]:
    """The frame at about `width` px across with a white border: shrunk when large (zbar's
    time grows with pixels), enlarged when small (zbar misses codes of 1-2 px per module)."""
    factor = width / max(gray.shape[:2])
    name = f"frame@{width}"
    if 0.9 <= factor <= 1.1:
        yield bordered((name, gray, np.eye(3)), paper)
        return
    if factor > 1:
        # Whole pixels per module (a file of 1 px per module) stay crisp enlarged by a whole
        # factor, nearest neighbour; zbar reads most soft photos enlarged so as well.
        k = float(min(8, max(2, round(factor))))
        yield bordered(scaled(name, gray, k, cv2.INTER_NEAREST), paper)
        return
    yield bordered(scaled(name, gray, factor, cv2.INTER_AREA), paper)


def enlarged(gray: np.ndarray, width: int, paper: int) -> Iterator[Variant]:
    """A small frame enlarged smoothly to about `width` px (a soft photo's modules come out
    blocky and uneven when enlarged by nearest neighbour); nothing for larger frames."""
    factor = width / max(gray.shape[:2])
    if factor > 1.1:
        yield bordered(scaled(f"frame@{width}/cubic", gray, factor, cv2.INTER_CUBIC), paper)


def crop(gray: np.ndarray, quad: Quad, paper: int, margin: float = 0.08, side: float | None = None) -> Variant:
    """The patch's bounding box at frame resolution, shrunk when its modules are large; with
    `side`, scaled (enlarged smoothly) so that the patch is about `side` px across."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    h, w = gray.shape
    xa, ya = int(max(0, x0 - mx)), int(max(0, y0 - my))
    xb, yb = int(min(w, x1 + mx)), int(min(h, y1 + my))
    img = gray[ya:yb, xa:xb]
    across = max(1.0, float(min(x1 - x0, y1 - y0)))
    f = min(1.0, CARD_MODULES * ZBAR_PITCH / across) if side is None else side / across
    if f < 0.9:
        img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    elif f > 1.1:
        img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    else:
        f = 1.0
    to_frame = np.array([[1 / f, 0, xa], [0, 1 / f, ya], [0, 0, 1]], np.float64)
    return bordered(("crop", img, to_frame), paper)


def rectify(gray: np.ndarray, quad: Quad, side: int, paper: int) -> Variant:
    """The patch warped onto an upright square, with a little margin kept around it."""
    pad = side * 0.06
    dst = np.array([[pad, pad], [side - pad, pad], [side - pad, side - pad], [pad, side - pad]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    # Enlarging a small code bilinearly smears its ~2 px modules; cubic keeps their edges.
    enlarging = float(np.linalg.norm(quad[1] - quad[0])) < side * 0.9
    flags = cv2.INTER_CUBIC if enlarging else cv2.INTER_LINEAR
    # Paper colour past the frame's edge: a code cropped at the edge gets its quiet zone back.
    warped = cv2.warpPerspective(gray, m, (side, side), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=paper)
    return f"rectified{side}", warped, np.linalg.inv(m)


def cleanups(name: str, img: np.ndarray, to_frame: np.ndarray) -> Iterator[Variant]:
    """Cleaned-up copies for blurred, noisy and dim patches, the likeliest first."""
    # A strong unsharp mask undoes most of a webcam's defocus at ~6 px per module.
    soft = cv2.GaussianBlur(img, (0, 0), 4.0)
    yield f"{name}+sharpen", cv2.addWeighted(img, 4.0, soft, -3.0, 0), to_frame
    smooth = cv2.GaussianBlur(img, (0, 0), 1.2)
    adaptive = cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 41, 2)
    yield f"{name}+adaptive", adaptive, to_frame
    _, otsu = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    yield f"{name}+denoise", otsu, to_frame
    stretched = cv2.normalize(img, np.empty_like(img), 0, 255, cv2.NORM_MINMAX)
    yield f"{name}+stretch", cv2.createCLAHE(3.0, (4, 4)).apply(stretched), to_frame


def scaled(name: str, img: np.ndarray, factor: float, interpolation: int = cv2.INTER_AREA) -> Variant:
    out = cv2.resize(img, None, fx=factor, fy=factor, interpolation=interpolation)
    to_frame = np.array([[1 / factor, 0, 0], [0, 1 / factor, 0], [0, 0, 1]], np.float64)
    return name, out, to_frame


def masked(img: np.ndarray, points: np.ndarray, paper: int) -> np.ndarray:
    """`img` with the code at `points` (image pixels) painted over in paper colour, a little
    enlarged: what is left of a code printed around it reads as erasures its error correction
    absorbs."""
    c = points.mean(axis=0)
    grown = (c + (points - c) * 1.15).astype(np.int32)
    out = img.copy()
    cv2.fillConvexPoly(out, cv2.convexHull(grown), int(paper))
    return out


def to_frame_points(points: np.ndarray, to_frame: np.ndarray) -> np.ndarray:
    pts = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), to_frame)
    return pts.reshape(-1, 2).astype(np.float32)
