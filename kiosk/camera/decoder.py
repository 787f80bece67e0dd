"""Reading a QR code out of one webcam frame: pyzbar, helped by OpenCV where zbar is weak.

zbar reads upright, sharp, well-sized codes quickly and everything else poorly: it is weakest on
tilted codes (perspective), blur, codes of 1-2 px per module and codes without a quiet zone,
and slow on a whole 720p frame. So a frame goes up a ladder, cheapest rung first:

1. the whole frame at ~640 px with a white border added: one cheap pass that reads most
   sharp codes, codes cropped to the edge of the photo and (enlarged) tiny ones, and that
   always runs, whatever the patch finder thinks;
2. the patches where a code seems to be (locate.py), straightened by a homography onto a
   320 px square; then the likeliest patch found again by the code's own finder and
   alignment patterns (grid.py): upright by their homography, with a bend smoothed out, and
   sampled module by module on the grid its timing lines and edges show, redrawn clean
   (sample.py);
3. a small frame enlarged smoothly; on frames larger than ~700 px, the whole frame at full
   size, every other line (codes too small for the 640 px pass); the patches' bounding boxes;
4. the patches straightened at 480 px and cleaned up: sharpened (blur), adaptive and Otsu
   thresholds (noise, JPEG, uneven light, screen moire), contrast-stretched (dim, glare);
5. the whole frame at full size, every line; OpenCV's own decoder on the straightened patches.

A read counts only once verified: its bytes are ASCII text (the enrollment token is) and
`accept` (the kiosk: the token's shape) takes it; anything else ("another code") and the ladder
goes on. Among codes read at one rung the largest wins, and a code read inside a larger patch
is painted over and the rung read again, so a code printed inside another one (a logo) does
not hide the outer one. The effort per frame is a work budget counted in pixels handed to a
decoder, not in milliseconds, so a frame reads the same on an idle or a busy machine. Without
libzbar (`Decoder.engine` says so) OpenCV's ArUco-based QR detector reads, on a ladder of its
own (`_opencv_ladder`): the redrawn code first, decoded where it was drawn, then the patches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.camera import grid, sample
from kiosk.camera import locate as loc
from kiosk.camera.locate import Quad, Variant, order_corners, to_gray
from kiosk.camera.zbar import ZBAR_MISSING_REASON, Symbol, ZbarReader

__all__ = ["DEFAULT_BUDGET", "Decoder", "Quad", "Reading", "order_corners", "plain_text", "to_gray"]

ReadFn = Callable[..., list[Symbol]]  # (image, the code's corners if known) -> symbols
Hit = tuple[str, np.ndarray]  # verified text, the code's corners in the variant's pixels

# Decoder work per frame, in pixels handed to zbar (or OpenCV): 1.6 million is ~35 ms of CPU
# at the 95th percentile on the shared 2-core build machine (bench/scan.py prints it). It pays
# for the whole-frame passes, the straightened patches and the first patch's clean-ups.
DEFAULT_BUDGET = 1_600_000
_WHOLE_FRAME_WIDTH = 640
_RECTIFIED_FAST = 320
_RECTIFIED_FINE = 480
_RECTIFIED_OPENCV = 512  # QRCodeDetector's own working size; ~10 px per module
_CROP_OPENCV = 450  # a patch enlarged from the frame to ~8 px per module
_OPENCV_WHOLE_FRAME = 700  # px; larger frames are read patch by patch
_OPENCV_PIXEL_COST = 2


@dataclass
class Reading:
    """What one frame showed: the payload if decoded, else where a code seems to be."""

    payload: str | None = None
    corners: Quad | None = None  # the decoded code, else the likeliest patch, in frame pixels
    brightness: float = 0.0  # mean gray level 0-255 (the "too dark" hint)
    contrast: float = 0.0  # standard deviation of gray levels (washed out or glare)
    rung: str = ""  # which rung decoded it (bench, tests, tuning)
    candidates: list[Quad] = field(default_factory=list)
    other_code: bool = False  # a code was read that is not ours (not text, or refused)
    work: int = 0  # pixels handed to a decoder (the budget spent)


_LINE_BREAKS = str.maketrans("", "", "\t\r\n")


def plain_text(data: bytes) -> str | None:
    """The payload as text if it is printable ASCII (as an enrollment token is), lines and tabs
    allowed, else None.

    zbar and OpenCV guess a character set for non-ASCII bytes and often guess wrong; nothing
    the kiosk reads is outside ASCII, so such a read is "another code", never a wrong text.
    Line breaks are ASCII and unambiguous: a code of several lines (a note, a contact card)
    was read, and is "another code" by `accept` rather than no code at all. Other control
    characters (terminal escapes) are never text."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text.strip() or not text.translate(_LINE_BREAKS).isprintable():
        return None
    return text


def _area(points: np.ndarray) -> float:
    if len(points) < 3:
        return 0.0
    return float(cv2.contourArea(points.reshape(-1, 1, 2).astype(np.float32)))


def _opencv_reader(detector: cv2.QRCodeDetector | cv2.QRCodeDetectorAruco | None = None) -> ReadFn:
    detector = cv2.QRCodeDetector() if detector is None else detector

    def read(img: np.ndarray, corners: np.ndarray | None = None) -> list[Symbol]:
        # The bytes calls, not detectAndDecode: that one turns the payload into str itself and
        # raises UnicodeDecodeError on a code that is not UTF-8 (a Shift-JIS poster). With the
        # code's corners known, only the decoding: OpenCV's search for them costs more.
        try:
            if corners is None:
                data, points, _ = detector.detectAndDecodeBytes(img)
            else:
                points = corners.reshape(1, 4, 2).astype(np.float32)
                data, _ = detector.decodeBytes(img, points)
        except (cv2.error, UnicodeDecodeError, ValueError):
            return []
        if not data or points is None:
            return []
        return [(bytes(data), np.asarray(points, np.float32).reshape(-1, 2))]

    return read


class Decoder:
    """Decodes frames. One per thread: zbar scanners and OpenCV detectors are not thread safe.

    `budget`: decoder work per frame in pixels (None: the whole ladder, for still images).
    `accept`: the kiosk's check of a read's text; refused reads do not stop the ladder.
    `engine` "opencv" forces the no-libzbar path (tests); None picks pyzbar if it loads.
    """

    def __init__(
        self,
        budget: int | None = DEFAULT_BUDGET,
        *,
        engine: str | None = None,
        accept: Callable[[str], bool] | None = None,
    ) -> None:
        self.budget = budget
        self.accept = accept
        self._opencv = _opencv_reader()
        use_zbar = engine != "opencv" and ZBAR_MISSING_REASON is None
        self.engine = "pyzbar" if use_zbar else "opencv"
        self._zbar = ZbarReader() if use_zbar else None
        # Without zbar, the ArUco-based detector: on the benches' frames it reads more of the
        # straightened codes than QRCodeDetector and in half its time (QRCodeDetector enlarges
        # every image to 512 px a side before it looks, so a small patch costs a large one).
        self._aruco = None if use_zbar else _opencv_reader(cv2.QRCodeDetectorAruco())

    def read(self, frame: np.ndarray) -> Reading:
        """Everything the frame shows; `payload` is None when no rung read an accepted code."""
        gray = to_gray(frame)
        mean, std = cv2.meanStdDev(gray)  # ~0.1 ms; numpy's std takes ~7 ms on 720p
        reading = Reading(brightness=float(mean[0, 0]), contrast=float(std[0, 0]))
        candidates = loc.locate(gray)
        reading.candidates = candidates
        if candidates:
            reading.corners = candidates[0]
        paper = loc.paper_level(gray)
        for name, img, to_frame in self._ladder(gray, candidates, paper):
            if img.size == 0:
                continue
            if not self._spend(reading, img, name):
                break
            hit = self._take(reading, self._symbols(name, img), to_frame)
            if hit is None:
                continue
            if self._inside_a_bigger_patch(hit[1], to_frame, candidates):
                # A code inside a larger patch may be a logo printed inside the real code:
                # read again with it painted over, and keep the larger code if one shows.
                # Always paid for, over budget if need be: the inner code is a wrong read.
                reading.work += _cost(name, img, self.engine)
                outer = self._take(reading, self._symbols(name, loc.masked(img, hit[1], paper)), to_frame)
                if outer is not None and _area(outer[1]) > _area(hit[1]):
                    hit = outer
            self._found(reading, hit, to_frame, name)
            return reading
        return reading

    def _spend(self, reading: Reading, img: np.ndarray, name: str) -> bool:
        """Charge the decoder work for `img`; False when the budget cannot pay for it. The
        first rung always runs: a frame is never left unread for lack of budget."""
        cost = _cost(name, img, self.engine)
        if self.budget is not None and reading.work and reading.work + cost > self.budget:
            return False
        reading.work += cost
        return True

    def _symbols(self, name: str, img: np.ndarray) -> list[Symbol]:
        if name.endswith("/opencv"):
            return self._opencv(img)
        if self._zbar is not None:
            return self._zbar.read(img, _density(name))
        assert self._aruco is not None
        # The redrawn code lies where sample.py drew it: no search needed.
        return self._aruco(img, sample.drawn_corners(img.shape[0]) if name == sample.NAME else None)

    def decode(self, frame: np.ndarray) -> str | None:
        return self.read(frame).payload

    def _take(self, reading: Reading, symbols: list[Symbol], to_frame: np.ndarray) -> Hit | None:
        """The largest verified code among `symbols`: its text and points in the variant."""
        best: tuple[float, np.ndarray, str] | None = None
        for data, points in symbols:
            text = plain_text(data)
            if text is None or (self.accept is not None and not self.accept(text)):
                reading.other_code = True
                continue
            area = _area(loc.to_frame_points(points, to_frame))
            if best is None or area > best[0]:
                best = (area, points, text)
        if best is None:
            return None
        return best[2], best[1]

    def _found(self, reading: Reading, hit: Hit, to_frame: np.ndarray, name: str) -> None:
        reading.payload, points = hit
        corners = loc.to_frame_points(points, to_frame)
        reading.rung = name
        reading.corners = order_corners(corners) if len(corners) == 4 else corners

    @staticmethod
    def _inside_a_bigger_patch(points: np.ndarray, to_frame: np.ndarray, candidates: list[Quad]) -> bool:
        corners = loc.to_frame_points(points, to_frame)
        centre = tuple(float(v) for v in corners.mean(axis=0))
        area = _area(corners)
        return any(
            _area(quad) > 2.0 * area and cv2.pointPolygonTest(quad.reshape(-1, 1, 2), centre, False) > 0
            for quad in candidates
        )

    def _ladder(self, gray: np.ndarray, candidates: list[Quad], paper: int) -> Iterator[Variant]:
        if self.engine == "opencv":
            yield from _opencv_ladder(gray, candidates, paper)
            return
        yield from loc.whole_frame(gray, _WHOLE_FRAME_WIDTH, paper)
        for quad in candidates:
            yield loc.rectify(gray, quad, _RECTIFIED_FAST, paper)
        # Steep tilts the patch outline gets wrong, and bent codes: the code's own landmarks.
        for quad in candidates[:1]:
            yield from grid.straightened(gray, quad, paper)
        yield from loc.enlarged(gray, _WHOLE_FRAME_WIDTH, paper)
        large = max(gray.shape[:2]) > _WHOLE_FRAME_WIDTH * 1.1
        if large:
            # Full size for codes too small for the ~640 px pass; every other line is enough
            # for those (3+ px per module) at half the work. A thin border: a code that fills
            # a large frame was read at ~640 px already.
            yield loc.bordered(("frame/sparse", gray, np.eye(3)), paper, 0.01)
        for quad in candidates:
            yield loc.crop(gray, quad, paper)
        fine = [loc.rectify(gray, quad, _RECTIFIED_FINE, paper) for quad in candidates]
        for name, img, to_frame in fine:
            yield name, img, to_frame
            yield from loc.cleanups(name, img, to_frame)
        if large:
            yield loc.bordered(("frame", gray, np.eye(3)), paper, 0.01)
        # OpenCV's decoder reads a few straightened codes zbar cannot.
        for name, img, to_frame in fine:
            yield f"{name}/opencv", img, to_frame


def _opencv_ladder(gray: np.ndarray, candidates: list[Quad], paper: int) -> Iterator[Variant]:
    """The rungs for OpenCV alone, in the order that read most per unit of work on the
    benches' frames (bench/scan.py, bench/real_photos.py). Unlike zbar, OpenCV reads the
    whole of a large frame slowly (~25 ms at 720p, up to 70) and seldom: a code a fifth of
    the frame high is too small for its finder search. So whole frames only when small (a
    photo, a file) and otherwise the patches, nearest the code first: the code redrawn from
    its sampled modules (clean, upright, any bend undone; what OpenCV reads best, in ~2 ms),
    the patches straightened at ~6 and ~10 px per module, the code upright by its own
    landmarks, a sharpened patch (blur), and the patch enlarged from the frame's own pixels."""
    small = max(gray.shape[:2]) <= _OPENCV_WHOLE_FRAME
    if small:
        yield loc.bordered(("frame", gray, np.eye(3)), paper)
    landmarks: dict[str, Variant] = {}
    for quad in candidates[:1]:
        landmarks = {variant[0]: variant for variant in grid.straightened(gray, quad, paper)}
    if sample.NAME in landmarks:
        yield landmarks[sample.NAME]
    for quad in candidates:
        yield loc.rectify(gray, quad, _RECTIFIED_FAST, paper)
    for quad in candidates:
        yield loc.rectify(gray, quad, _RECTIFIED_OPENCV, paper)
    if "finders" in landmarks:
        yield landmarks["finders"]
    for quad in candidates:
        yield next(loc.cleanups(*loc.rectify(gray, quad, _RECTIFIED_FINE, paper)))
    for quad in candidates:
        yield loc.crop(gray, quad, paper, side=_CROP_OPENCV)
    if not small:
        # More than the budget: it runs only as the first rung, when no patch was found.
        yield loc.bordered(("frame", gray, np.eye(3)), paper, 0.01)


def _density(name: str) -> int:
    return 2 if name.endswith("/sparse") else 1


def _cost(name: str, img: np.ndarray, engine: str = "pyzbar") -> int:
    """Work charged for decoding `img`; the landmark search before the first grid variant
    looks at a patch of about the same size as the straightened code, and a code redrawn from
    its sampled modules costs the sampling too. On the OpenCV ladder the redrawn code comes
    first, so it pays the search; and OpenCV's pixels cost twice zbar's (measured: ~45 ns a
    pixel against ~22), so that the budget holds a frame to the same time on either engine."""
    first = sample.NAME if engine == "opencv" else "finders"
    search = grid.WORK_SIDE**2 if name == first else 0
    if name == sample.NAME:
        search += sample.work(img.shape[0])
    pixels = img.size // _density(name)
    return (_OPENCV_PIXEL_COST * pixels if engine == "opencv" else pixels) + search
