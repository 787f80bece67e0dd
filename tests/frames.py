"""Synthetic webcam frames showing a cronto image, for the scanner tests and bench/scan.py.

A frame is a cluttered desk-like background with a white card carrying the QR code, placed by a
homography (size, in-plane rotation, out-of-plane tilt), then degraded like a cheap webcam:
blur, sensor noise, low contrast, underexposure, JPEG. Everything is drawn from a seeded
`numpy.random.Generator`, so a seed gives the same frames on every run.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypedDict

import cv2
import numpy as np
import segno

WIDTH, HEIGHT = 1280, 720
Frame = np.ndarray

CATEGORIES: tuple[str, ...] = (
    "nominal",
    "small",
    "rotation",
    "perspective",
    "blur",
    "noise",
    "low_contrast",
    "dark",
    "jpeg",
    "combined",
)

_TOKEN_CHARS = string.ascii_letters + string.digits + "-_"


def fake_token(rng: np.random.Generator, length: int = 283) -> str:
    """A string shaped like a signed enrollment token (3 base64url parts), for decoding only."""
    chars = rng.choice(list(_TOKEN_CHARS), size=length - 2)
    text = "".join(chars)
    a, b = length // 6, length // 6 + length // 2
    return f"{text[:a]}.{text[a:b]}.{text[b:]}"


@lru_cache(maxsize=64)
def qr_modules(payload: str) -> np.ndarray:
    """The code's modules as a 0/1 array (1 = dark), without a quiet zone."""
    qr = segno.make_qr(payload, error="m", boost_error=False)
    return np.array([[1 if v else 0 for v in row] for row in qr.matrix], dtype=np.uint8)


def card_image(payload: str, px_per_module: int = 8, quiet: int = 4) -> np.ndarray:
    """The printed image: black modules on white paper with a quiet zone (grayscale)."""
    mods = qr_modules(payload)
    n = mods.shape[0] + 2 * quiet
    img = np.full((n, n), 255, np.uint8)
    img[quiet:-quiet, quiet:-quiet] = np.where(mods == 1, 0, 255)
    return cv2.resize(img, (n * px_per_module, n * px_per_module), interpolation=cv2.INTER_NEAREST)


def background(rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A desk: a lit gradient plus random boxes and lines (edges a detector may trip on)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 90 + 60 * (xx / width) + 30 * np.sin(yy / height * math.pi)
    img = np.dstack([base * rng.uniform(0.8, 1.1) for _ in range(3)]).astype(np.uint8)
    for _ in range(int(rng.integers(8, 16))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, 300)), y0 + int(rng.integers(10, 200))
        color = tuple(int(c) for c in rng.integers(20, 235, size=3))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x0, y0), (x1, y1), color, -1)
        else:
            cv2.line(img, (x0, y0), (x1, y1), color, int(rng.integers(1, 5)))
    for _ in range(int(rng.integers(2, 6))):
        org = (int(rng.integers(0, width - 200)), int(rng.integers(20, height)))
        cv2.putText(img, "Rx 10mg bid", org, cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
    return img


def place(card: np.ndarray, frame: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paste `card` into `frame` so its corners land on `corners` (TL, TR, BR, BL)."""
    h, w = card.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpPerspective(card, m, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full_like(card, 255), m, size, flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    out = frame.astype(np.float32) * (1 - alpha) + cv2.cvtColor(warped, cv2.COLOR_GRAY2BGR) * alpha
    return out.astype(np.uint8), m


def pose(
    rng: np.random.Generator,
    side: float,
    *,
    roll: float = 0.0,
    tilt_x: float = 0.0,
    tilt_y: float = 0.0,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> np.ndarray:
    """Corners of a card `side` px wide, rolled and tilted (degrees), seen by a pinhole camera."""
    f = 1000.0
    half = side / 2
    pts = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]], float)
    rx, ry, rz = (math.radians(a) for a in (tilt_x, tilt_y, roll))
    rot_x = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_z = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    p = pts @ (rot_z @ rot_y @ rot_x).T
    p[:, 2] += f
    proj = p[:, :2] * (f / p[:, 2:3])
    span = proj.max(axis=0) - proj.min(axis=0)
    margin = np.array([width, height]) - span
    lo = -proj.min(axis=0)
    offset = lo + np.array([rng.uniform(0.1, 0.9) * max(m, 0) for m in margin])
    corners: np.ndarray = proj + offset
    return corners


@dataclass(frozen=True)
class Shot:
    category: str
    frame: np.ndarray  # BGR uint8, HEIGHT x WIDTH
    payload: str


class Degradation(TypedDict, total=False):
    """What a cheap webcam does to a frame: `degrade`'s keyword arguments."""

    blur: float
    motion: int
    noise: float
    lo: float
    hi: float
    gain: float
    jpeg: int


def degrade(
    img: np.ndarray,
    rng: np.random.Generator,
    *,
    blur: float = 0.0,
    motion: int = 0,
    noise: float = 0.0,
    lo: float = 0.0,
    hi: float = 255.0,
    gain: float = 1.0,
    jpeg: int = 0,
) -> np.ndarray:
    f: np.ndarray = img.astype(np.float32)
    if blur > 0:
        f = cv2.GaussianBlur(f, (0, 0), blur)
    if motion > 1:
        k: np.ndarray = np.zeros((motion, motion), np.float32)
        k[motion // 2, :] = 1.0 / motion
        rot = cv2.getRotationMatrix2D((motion / 2 - 0.5, motion / 2 - 0.5), rng.uniform(0, 180), 1)
        k = cv2.warpAffine(k, rot, (motion, motion))
        f = cv2.filter2D(f, -1, k / max(k.sum(), 1e-6))
    f = lo + f * ((hi - lo) / 255.0)
    f = f * gain
    if noise > 0:
        f = f + rng.standard_normal(f.shape, dtype=np.float32) * np.float32(noise)
    out: np.ndarray = np.clip(f, 0, 255).astype(np.uint8)
    if jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        assert ok
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        assert decoded is not None
        out = decoded
    return out


def synth_frame(
    category: str, rng: np.random.Generator, payload: str | None = None, width: int = WIDTH, height: int = HEIGHT
) -> Shot:
    """One frame of `category` (see CATEGORIES); every frame carries exactly one code."""
    payload = payload or fake_token(rng)
    u = rng.uniform
    scale = width / WIDTH  # the categories are defined for 1280x720; scale sizes with the frame
    side, roll, tx, ty = u(260, 420), u(-6, 6), u(-8, 8), u(-8, 8)
    deg: Degradation = {"blur": 0.7, "noise": 3.0}
    if category == "small":
        side = u(125, 165)
    elif category == "rotation":
        side, roll = u(240, 380), float(rng.choice([-1, 1]) * u(15, 75) + 90 * rng.integers(0, 4))
    elif category == "perspective":
        side, roll = u(260, 380), u(-20, 20)
        tx, ty = float(rng.choice([-1, 1]) * u(30, 55)), float(rng.choice([-1, 1]) * u(0, 35))
        if rng.random() < 0.5:
            tx, ty = ty, tx
    elif category == "blur":
        side = u(260, 380)
        if rng.random() < 0.5:
            deg["blur"] = u(1.3, 2.3)
        else:
            deg["motion"] = int(rng.integers(5, 11))
    elif category == "noise":
        deg["noise"] = u(22, 42)
    elif category == "low_contrast":
        mid = u(100, 160)
        span = u(28, 45)
        deg.update({"lo": mid - span / 2, "hi": mid + span / 2})
    elif category == "dark":
        deg.update({"gain": u(0.08, 0.18), "noise": u(1.5, 3.0)})
    elif category == "jpeg":
        side, deg["jpeg"] = u(200, 300), int(rng.integers(8, 20))
    elif category == "combined":
        side, roll = u(220, 340), u(-40, 40)
        tx, ty = u(-30, 30), u(-30, 30)
        deg.update({"blur": u(0.8, 1.4), "noise": u(6, 12), "jpeg": int(rng.integers(30, 60))})
        mid, span = u(110, 150), u(90, 130)
        deg.update({"lo": mid - span / 2, "hi": mid + span / 2})
    elif category != "nominal":
        raise ValueError(f"unknown category {category!r}")
    card = card_image(payload, px_per_module=8)
    bg = background(rng, width, height)
    corners = pose(rng, side * scale, roll=roll, tilt_x=tx, tilt_y=ty, width=width, height=height)
    frame, _ = place(card, bg, corners)
    # Paper is never pure white nor ink pure black under room light.
    frame = degrade(frame, rng, lo=25, hi=235)
    frame = degrade(frame, rng, **deg)
    return Shot(category, frame, payload)


def shots(per_category: int, seed: int, categories: tuple[str, ...] = CATEGORIES) -> Iterator[Shot]:
    """`per_category` frames of each category, reproducibly from `seed`."""
    rng = np.random.default_rng(seed)
    for category in categories:
        for _ in range(per_category):
            yield synth_frame(category, rng)


def empty_frame(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    return degrade(background(rng, width, height), rng, noise=3.0)


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: float = 15.0,
) -> Path:
    """An MJPEG .avi (OpenCV's built-in encoder, so it works without system codecs)."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for frame in frames:
        writer.write(frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def video_with_code(
    path: Path,
    payload: str,
    *,
    empty: int = 10,
    showing: int = 10,
    category: str = "nominal",
    seed: int = 1,
    size: tuple[int, int] = (640, 360),
    fps: float = 15.0,
    then_empty: int = 0,
    make: Callable[[str, np.random.Generator, str, int, int], Shot] | None = None,
) -> Path:
    """A clip: `empty` frames of desk, then `showing` frames with the code, then `then_empty`."""
    rng = np.random.default_rng(seed)
    w, h = size
    build = make or (lambda c, r, p, ww, hh: synth_frame(c, r, p, ww, hh))
    frames = [empty_frame(rng, w, h) for _ in range(empty)]
    frames += [build(category, rng, payload, w, h).frame for _ in range(showing)]
    frames += [empty_frame(rng, w, h) for _ in range(then_empty)]
    return write_video(path, frames, fps)
