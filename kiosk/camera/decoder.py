"""Reading a QR code out of one webcam frame: pyzbar, helped by OpenCV where zbar is weak.

zbar reads upright, sharp, well-sized codes quickly and everything else poorly: it is weakest on
tilted codes (perspective), blur and codes only ~2 px per module, and slow on a whole 720p
frame. So a frame goes up a ladder, cheapest rung first, and stops at the first payload:

1. find where the code is: the printed card is the one dense, square-ish patch of edges
   (a morphological gradient on a 1/4-size image, ~1 ms), so zbar never searches the whole
   frame unless this finds nothing;
2. zbar on that patch straightened by a homography onto a 320 px square: perspective and
   rotation undone, small codes enlarged, big ones shrunk to ~4 px per module (most frames
   stop here, in well under 10 ms);
3. zbar on the plain bounding box of the patch (when the straightening corners were off);
4. the patch straightened at 480 px and cleaned up: sharpened (blur), adaptive and Otsu
   thresholds (noise, JPEG, uneven light), contrast-stretched (dim or washed-out frames);
5. zbar on the whole frame at half and full size, in case the patch finder missed the code;
   last, OpenCV's own QR decoder on the straightened patches.

Rungs past the second cost more, so they run only while nothing decodes, and the ladder stops
at `budget_ms`. Without libzbar (pyzbar cannot load it) OpenCV's QRCodeDetector takes zbar's
place on every rung and `Decoder.engine` says "opencv".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.camera.zbar import ZBAR_MISSING_REASON, zbar_decode

Quad = np.ndarray  # 4x2 float32 corner points in frame pixels, clockwise from top-left
Variant = tuple[str, np.ndarray, np.ndarray]  # rung name, grayscale image, image->frame homography
DecodeFn = Callable[[np.ndarray], "tuple[str, np.ndarray] | None"]

_K3 = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
_K7 = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
_K11 = cv2.getStructuringElement(cv2.MORPH_RECT, (11, 11))
_LOCATE_WIDTH = 320  # the patch finder's working width: ~1 ms, and a 100 px code still shows
_MAX_CANDIDATES = 3
# Sides of the straightened patch. A card is ~73 modules (code + quiet zone): 320 px gives zbar
# ~4 px per module, its sweet spot for speed; 480 px (~6 px) leaves room for the clean-ups.
_RECTIFIED_FAST = 320
_RECTIFIED_FINE = 480
_CARD_MODULES = 73
_ZBAR_PITCH = 3.5  # px per module zbar reads reliably; bigger crops are shrunk to it first


@dataclass
class Reading:
    """What one frame showed: the payload if decoded, else where a code seems to be."""

    payload: str | None = None
    corners: Quad | None = None  # the decoded code, else the likeliest patch, in frame pixels
    brightness: float = 0.0  # mean gray level 0-255 (the "too dark" hint)
    contrast: float = 0.0  # standard deviation of gray levels (washed out or glare)
    rung: str = ""  # which rung decoded it (bench, tests, tuning)
    candidates: list[Quad] = field(default_factory=list)


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


def locate(gray: np.ndarray) -> list[Quad]:
    """Candidate code patches, biggest first, as quadrilaterals in frame pixels."""
    f = max(1.0, gray.shape[1] / _LOCATE_WIDTH)
    small = cv2.resize(gray, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA)
    edges = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, _K3)
    _, mask = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # Closing fills the code into one blob; opening drops thin lines and text strokes. A label
    # or a line touching the card can survive the first opening glued to it, so a wider one
    # gets a second try (it would erase a code under ~11 px at this scale, ~45 px in the frame).
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _K7)
    found: list[Quad] = []
    for kernel in (_K7, _K11):
        found = _square_blobs(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), f)
        if found:
            break
    return found


def _square_blobs(mask: np.ndarray, f: float) -> list[Quad]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = (90 / f) ** 2  # a code under ~90 px cannot be read at 720p anyway
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
    return [q for _, q in found[:_MAX_CANDIDATES]]


def _quad_of(contour: np.ndarray) -> Quad:
    """The patch's four corners: the hull simplified to 4 points, else its min-area box."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return order_corners(approx.astype(np.float32))
    return order_corners(cv2.boxPoints(cv2.minAreaRect(contour)))


def _crop(gray: np.ndarray, quad: Quad, margin: float = 0.08) -> Variant:
    """The patch's bounding box at frame resolution, shrunk when its modules are large."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    h, w = gray.shape
    xa, ya = int(max(0, x0 - mx)), int(max(0, y0 - my))
    xb, yb = int(min(w, x1 + mx)), int(min(h, y1 + my))
    crop = gray[ya:yb, xa:xb]
    f = min(1.0, _CARD_MODULES * _ZBAR_PITCH / max(1.0, float(min(x1 - x0, y1 - y0))))
    if f < 0.9:
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    else:
        f = 1.0
    to_frame = np.array([[1 / f, 0, xa], [0, 1 / f, ya], [0, 0, 1]], np.float64)
    return "crop", crop, to_frame


def _rectify(gray: np.ndarray, quad: Quad, side: int) -> Variant:
    """The patch warped onto an upright square, with a little margin kept around it."""
    pad = side * 0.04
    dst = np.array([[pad, pad], [side - pad, pad], [side - pad, side - pad], [pad, side - pad]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    # Enlarging a small code bilinearly smears its ~2 px modules; cubic keeps their edges.
    enlarging = float(np.linalg.norm(quad[1] - quad[0])) < side * 0.9
    flags = cv2.INTER_CUBIC if enlarging else cv2.INTER_LINEAR
    warped = cv2.warpPerspective(gray, m, (side, side), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return f"rectified{side}", warped, np.linalg.inv(m)


def _cleanups(name: str, img: np.ndarray, to_frame: np.ndarray) -> Iterator[Variant]:
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


def _scaled(name: str, img: np.ndarray, factor: float) -> Variant:
    out = cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    to_frame = np.array([[1 / factor, 0, 0], [0, 1 / factor, 0], [0, 0, 1]], np.float64)
    return name, out, to_frame


def _map(points: np.ndarray, to_frame: np.ndarray) -> Quad:
    pts = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), to_frame)
    return pts.reshape(-1, 2).astype(np.float32)


def _opencv_decode_fn() -> DecodeFn:
    detector = cv2.QRCodeDetector()

    def decode(img: np.ndarray) -> tuple[str, np.ndarray] | None:
        try:
            text, points, _ = detector.detectAndDecode(img)
        except cv2.error:
            return None
        if not text or points is None:
            return None
        return text, points.reshape(-1, 2)

    return decode


class Decoder:
    """Decodes frames. One per thread: OpenCV's detector objects are not thread safe."""

    def __init__(self, budget_ms: float = 45.0, *, engine: str | None = None) -> None:
        """`engine` "opencv" forces the no-libzbar path (tests); None picks pyzbar if it loads."""
        self.budget_ms = budget_ms
        self._opencv = _opencv_decode_fn()
        use_zbar = engine != "opencv" and ZBAR_MISSING_REASON is None
        self.engine = "pyzbar" if use_zbar else "opencv"
        self._decode: DecodeFn = zbar_decode if use_zbar else self._opencv

    def read(self, frame: np.ndarray) -> Reading:
        """Everything the frame shows; `payload` is None when no rung decoded a code."""
        start = time.perf_counter()
        gray = to_gray(frame)
        mean, std = cv2.meanStdDev(gray)  # ~0.1 ms; numpy's std takes ~7 ms on 720p
        reading = Reading(brightness=float(mean[0, 0]), contrast=float(std[0, 0]))
        candidates = locate(gray)
        reading.candidates = candidates
        if candidates:
            reading.corners = candidates[0]
        for name, img, to_frame in self._ladder(gray, candidates):
            if img.size == 0:
                continue
            hit = self._opencv(img) if name.endswith("/opencv") else self._decode(img)
            if hit is not None:
                text, points = hit
                corners = _map(points, to_frame)
                reading.payload, reading.rung = text, name
                reading.corners = order_corners(corners) if len(corners) == 4 else corners
                return reading
            if (time.perf_counter() - start) * 1000 > self.budget_ms:
                break
        return reading

    def decode(self, frame: np.ndarray) -> str | None:
        return self.read(frame).payload

    def _ladder(self, gray: np.ndarray, candidates: list[Quad]) -> Iterator[Variant]:
        for quad in candidates:
            yield _rectify(gray, quad, _RECTIFIED_FAST)
        for quad in candidates:
            yield _crop(gray, quad)
        fine = [_rectify(gray, quad, _RECTIFIED_FINE) for quad in candidates]
        yield from fine
        for name, img, to_frame in fine:
            yield from _cleanups(name, img, to_frame)
        if gray.shape[1] > 800:
            yield _scaled("frame/2", gray, 0.5)
        yield "frame", gray, np.eye(3)
        if self.engine == "pyzbar":
            # OpenCV's decoder reads a few straightened codes zbar cannot, at ~25 ms a try.
            for name, img, to_frame in fine:
                yield f"{name}/opencv", img, to_frame
