"""Generated frames that imitate real photographs of QR codes (for bench/scan.py and the tests).

These are imitations, drawn from a seeded generator, of the kinds of real photos a public
decoder corpus holds and the scanner used to miss: codes cropped to their edge (no quiet zone),
codes of exactly 1 px per module, cards curved round a bottle or wrinkled, codes photographed
off a screen (pixel grid, moire, glare), small codes on textured cloth or wood, a code printed
inside another one, large frames full of square distractors, and codes whose bytes are
Shift-JIS or Big5 text (a read of those must never come out as other text). They are not real
photographs: optics, sensors and phone post-processing are only approximated.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Unpack

import cv2
import numpy as np
import segno

from tests.frames import Degradation, Shot, background, degrade, fake_token, place, pose

PHOTO_CATEGORIES: tuple[str, ...] = (
    "no_margin",
    "one_px",
    "curved",
    "screen",
    "small_textured",
    "nested",
    "distractors",
)
# Frames whose code is not the kiosk's: the right answer is no read, and any text other than
# the code's own is a wrong read.
FOREIGN_CATEGORY = "foreign_text"
_FOREIGN_TEXTS = (
    ("受付番号 20240117 東京都", "shift_jis"),
    ("處方箋號碼 臺北市 一二三四五", "big5"),
    ("ご予約ありがとうございます", "shift_jis"),
    ("門診預約 請準時報到", "big5"),
)


def modules(data: str | bytes, error: str = "m") -> np.ndarray:
    """The code's modules as a 0/1 array (1 = dark), without a quiet zone."""
    qr = segno.make_qr(data, error=error, boost_error=False)
    return np.array([[1 if v else 0 for v in row] for row in qr.matrix], dtype=np.uint8)


def render(mods: np.ndarray, px: int, quiet: int) -> np.ndarray:
    """Black modules on white, `px` pixels per module, `quiet` modules of white around."""
    img = np.pad(np.where(mods == 1, 0, 255).astype(np.uint8), quiet, constant_values=255)
    return cv2.resize(img, None, fx=px, fy=px, interpolation=cv2.INTER_NEAREST)


def _camera(img: np.ndarray, rng: np.random.Generator, **kw: Unpack[Degradation]) -> np.ndarray:
    """Paper and ink under room light, then the webcam's blur and noise (BGR out)."""
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img
    return degrade(degrade(bgr, rng, lo=25, hi=235), rng, **kw)


def no_margin(rng: np.random.Generator) -> Shot:
    """A photo cropped to the code's edge: no quiet zone, 2-6 px per module, a little soft."""
    payload = fake_token(rng)
    mods = modules(payload)
    side = int(mods.shape[0] * rng.uniform(2.2, 6.0))
    code = cv2.resize(render(mods, 8, 0), (side, side), interpolation=cv2.INTER_AREA)
    frame = _camera(code, rng, blur=float(rng.uniform(0.4, 0.9)), noise=float(rng.uniform(2, 6)), jpeg=80)
    return Shot("no_margin", frame, payload)


def one_px(rng: np.random.Generator) -> Shot:
    """A tiny file: exactly 1 px per module, with 0-2 modules of quiet zone (sharp, no noise)."""
    payload = fake_token(rng, int(rng.integers(60, 284)))
    img = render(modules(payload), 1, int(rng.integers(0, 3)))
    return Shot("one_px", cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), payload)


def _curve(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The card wrapped round a cylinder (a bottle) or wrinkled (a t-shirt), with shading."""
    h, w = card.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        arc = float(rng.uniform(0.8, 1.6))  # radians of the cylinder the card covers
        theta = (xx / w - 0.5) * arc
        map_x = (np.sin(theta) / math.sin(arc / 2) + 1) / 2 * (w - 1)
        map_y = yy
        shade = 0.55 + 0.45 * np.cos(theta) / max(math.cos(0), 1.0)
    else:
        amp = float(rng.uniform(0.008, 0.016)) * w
        waves = [(float(rng.uniform(0.6, 1.6)) * w, float(rng.uniform(0, 2 * math.pi))) for _ in range(3)]
        dx = sum(np.sin(2 * math.pi * yy / lam + ph) for lam, ph in waves[:2]) * amp
        dy = np.sin(2 * math.pi * xx / waves[2][0] + waves[2][1]) * amp
        map_x, map_y = xx + dx, yy + dy
        slope = np.gradient(dx, axis=0) + np.gradient(dy, axis=1)
        shade = np.clip(1.0 - 2.0 * slope, 0.6, 1.2)
    bent = cv2.remap(card, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR, borderValue=255)
    out: np.ndarray = np.clip(bent.astype(np.float32) * shade, 0, 255).astype(np.uint8)
    return out


def curved(rng: np.random.Generator) -> Shot:
    payload = fake_token(rng)
    card = _curve(render(modules(payload), 8, 4), rng)
    bg = background(rng, 1280, 720)
    corners = pose(
        rng, float(rng.uniform(300, 440)), roll=float(rng.uniform(-8, 8)), tilt_x=float(rng.uniform(-10, 10))
    )
    frame, _ = place(card, bg, corners)
    return Shot("curved", _camera(frame, rng, blur=0.8, noise=3.0), payload)


def screen(rng: np.random.Generator) -> Shot:
    """The code on a monitor: an RGB pixel grid photographed at about one grid cell per camera
    pixel (moire), a glare blob, raised blacks, tilted."""
    payload = fake_token(rng)
    code = render(modules(payload), int(rng.integers(3, 5)), 4)
    cell = 4  # camera-side drawing of one screen pixel: R, G, B stripes and a dark gap
    stripes = np.zeros((cell, cell, 3), np.float32)
    for i, channel in enumerate((2, 1, 0)):  # BGR order: red stripe first
        stripes[: cell - 1, i, channel] = 1.0
    lit = np.kron(code.astype(np.float32) / 255.0, np.ones((cell, cell), np.float32))[..., None]
    grid = np.tile(stripes, (code.shape[0], code.shape[1], 1))
    panel = (30 + 225 * lit * grid * 1.3).clip(0, 255).astype(np.uint8)
    side = float(code.shape[0] * rng.uniform(1.1, 1.9))  # ~1-2 camera pixels per screen pixel
    corners = pose(
        rng,
        side,
        roll=float(rng.uniform(-10, 10)),
        tilt_x=float(rng.uniform(-20, 20)),
        tilt_y=float(rng.uniform(-20, 20)),
    )
    h, w = panel.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    bg = background(rng, 1280, 720)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (1280, 720))
    # Sampling the grid without the lens's low-pass (bilinear, no area filter) gives the moire.
    warped = cv2.warpPerspective(panel, m, (1280, 720), flags=cv2.INTER_LINEAR)
    frame = np.where(mask[..., None] > 127, warped, bg).astype(np.float32)
    cx, cy = corners.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * side
    yy, xx = np.mgrid[0:720, 0:1280].astype(np.float32)
    glare = float(rng.uniform(50, 110)) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (side * 0.2) ** 2))
    frame = np.clip(frame + glare[..., None], 0, 255).astype(np.uint8)
    return Shot("screen", degrade(frame, rng, blur=float(rng.uniform(0.5, 1.0)), noise=4.0, jpeg=75), payload)


def _texture(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Cloth or wood: streaked, high-frequency noise with a weave (edges everywhere)."""
    noise = rng.standard_normal((height, width)).astype(np.float32)
    streak = cv2.GaussianBlur(noise, (0, 0), sigmaX=float(rng.uniform(0.6, 4.0)), sigmaY=float(rng.uniform(0.6, 1.5)))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    period = float(rng.uniform(3, 7))
    weave = np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)
    gray = 120 + 60 * streak / max(float(streak.std()), 1e-6) + 25 * weave
    tint = rng.uniform(0.7, 1.1, 3).astype(np.float32)
    out: np.ndarray = np.clip(gray[..., None] * tint, 0, 255).astype(np.uint8)
    return out


def small_textured(rng: np.random.Generator) -> Shot:
    """A small label (75-100 px, a short code) in a 320x240 frame on cloth or wood."""
    payload = fake_token(rng, int(rng.integers(40, 70)))
    card = render(modules(payload), 8, 3)
    bg = _texture(rng, 320, 240)
    side = float(rng.uniform(75, 100))
    corners = pose(
        rng, side, roll=float(rng.uniform(-15, 15)), tilt_x=float(rng.uniform(-15, 15)), width=320, height=240
    )
    frame, _ = place(card, bg, corners)
    return Shot("small_textured", _camera(frame, rng, blur=0.6, noise=4.0, jpeg=85), payload)


def nested(rng: np.random.Generator) -> Shot:
    """A code (error correction H) with a smaller code printed in its middle, as a logo would
    be: the outer one is the answer, the inner one is token-shaped too."""
    payload = fake_token(rng, int(rng.integers(90, 130)))
    outer = render(modules(payload, "h"), 8, 4)
    inner = render(modules(fake_token(rng, 30), "l"), 4, 2)
    n, k = outer.shape[0], inner.shape[0]
    at = (n - k) // 2
    outer[at : at + k, at : at + k] = inner
    bg = background(rng, 1280, 720)
    corners = pose(
        rng, float(rng.uniform(280, 420)), roll=float(rng.uniform(-10, 10)), tilt_x=float(rng.uniform(-10, 10))
    )
    frame, _ = place(outer, bg, corners)
    return Shot("nested", _camera(frame, rng, blur=0.7, noise=3.0), payload)


def distractors(rng: np.random.Generator) -> Shot:
    """A 1280x720 desk with large square patches of dense print (tiles, a page of text) that
    look more like a code to the patch finder than the code does."""
    payload = fake_token(rng)
    bg = background(rng, 1280, 720)
    for _ in range(int(rng.integers(2, 5))):
        s = int(rng.uniform(260, 420))
        x, y = int(rng.integers(0, 1280 - s)), int(rng.integers(0, 720 - s))
        dots = (rng.random((s // 6, s // 6)) < 0.5).astype(np.uint8) * 200 + 30
        tile = cv2.resize(dots, (s, s), interpolation=cv2.INTER_NEAREST)
        bg[y : y + s, x : x + s] = tile[..., None]
    corners = pose(
        rng, float(rng.uniform(220, 320)), roll=float(rng.uniform(-10, 10)), tilt_x=float(rng.uniform(-15, 15))
    )
    frame, _ = place(render(modules(payload), 8, 4), bg, corners)
    return Shot("distractors", _camera(frame, rng, blur=0.7, noise=3.0), payload)


def foreign_text(rng: np.random.Generator) -> Shot:
    """A code whose bytes are Shift-JIS or Big5 text without an ECI header (a poster, a receipt)."""
    text, encoding = _FOREIGN_TEXTS[int(rng.integers(0, len(_FOREIGN_TEXTS)))]
    card = render(modules(text.encode(encoding)), 8, 4)
    bg = background(rng, 1280, 720)
    frame, _ = place(card, bg, pose(rng, float(rng.uniform(260, 380))))
    return Shot(FOREIGN_CATEGORY, _camera(frame, rng, blur=0.7, noise=3.0), text)


_MAKERS = {
    "no_margin": no_margin,
    "one_px": one_px,
    "curved": curved,
    "screen": screen,
    "small_textured": small_textured,
    "nested": nested,
    "distractors": distractors,
    FOREIGN_CATEGORY: foreign_text,
}


def photo_frame(category: str, rng: np.random.Generator) -> Shot:
    return _MAKERS[category](rng)


def photo_shots(
    per_category: int, seed: int, categories: tuple[str, ...] = (*PHOTO_CATEGORIES, FOREIGN_CATEGORY)
) -> Iterator[Shot]:
    """`per_category` imitations of each category, reproducibly from `seed`."""
    rng = np.random.default_rng(seed)
    for category in categories:
        for _ in range(per_category):
            yield photo_frame(category, rng)
