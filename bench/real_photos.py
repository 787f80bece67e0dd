"""Benchmark: the scanner on real phone-camera photographs of QR codes (zxing's benchmark set).

    .venv/bin/python bench/real_photos.py [--cache DIR] [--per-photo 4] [--seed 2024]
        [--no-load] [--json out.json]

The photos come from Debian's source package of ZXing 3.4.1 (`core/src/test/resources/
benchmark/android-1` and `android-2`: 240x240 JPEG and 480x240 PNG taken by Android phones).
The tarball is downloaded once into the cache (default ~/.cache/ipkiosk-bench), checked against
the SHA-256 pinned below (from Debian bookworm's Sources index) and refused if it differs; only
the benchmark images are extracted. None of them ships with the project (license, size).

Categories: the 6 QR photos as taken; the same photos degraded in seeded ways (the code made
small, cropped to its edge, JPEG at low quality, motion blur, a perspective tilt, placed small in
a 1280x720 desk frame as the kiosk's webcam sends); and the 16 photos without a QR code (1-D
barcodes, a Data Matrix, a PDF417, zxing's "fail" shots), where any read is a wrong read.
Decoders: bench/scan.py's table, the scanner without the token-shape check (these payloads are
not enrollment tokens). Prints reads, wrong reads and median / p95 ms per frame per category,
a digest of the frames and of every read (two runs with one seed print the same), and whether
the scanner reads the same with every core busy. Figures depend on the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import sys
import tarfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scan import readers, run, same_under_load
from tests.frames import Shot, background, degrade

URL = "http://deb.debian.org/debian/pool/main/z/zxing/zxing_3.4.1+ds.orig.tar.xz"
# Debian bookworm main/source/Sources, "Package: zxing", Checksums-Sha256. Plain HTTP is fine:
# the hash, not the transport, is what makes the file trusted.
SHA256 = "94add6dafaf68a57de0e16d3ea7028023449adac60312f5876eb1d09f27846ff"
SIZE = 1_879_668
BENCHMARK_DIR = "zxing-zxing-3.4.1/core/src/test/resources/benchmark/"
FOLDERS = ("android-1", "android-2")
IMAGE_SUFFIXES = (".jpg", ".png")
AS_TAKEN = "as taken"
NO_QR = "no QR code"


@dataclass(frozen=True)
class QrPhoto:
    name: str  # folder/file inside the benchmark directory
    payload: str
    corners: tuple[tuple[int, int], ...]  # the code's TL, TR, BR, BL in photo pixels
    version: int  # QR version: 17 + 4 * version modules a side


_OWEN = "MECARD:N:Sean Owen;TEL:+12125658770;EMAIL:srowen@google.com;;"
# Ground truth: the text that zxing-cpp, raw pyzbar, raw OpenCV and this scanner all read from
# each photo as taken (zxing names no payloads for its benchmark); corners and version as
# zxing-cpp reports them. fail-4 is a QR photo zxing's own benchmark counts as a failure.
QR_PHOTOS = (
    QrPhoto(
        "android-1/qrcode-1.jpg",
        "MECARD:N:Google 411,;TEL:18665881077;;",
        ((58, 23), (219, 26), (211, 181), (57, 182)),
        3,
    ),
    QrPhoto(
        "android-1/qrcode-2.jpg",
        "UI office hours signup\r\nhttp://www.corp.google.com/sparrow/ui_office_hours/ \r\n",
        ((32, 48), (192, 53), (176, 195), (31, 197)),
        7,
    ),
    QrPhoto("android-1/qrcode-3.jpg", _OWEN, ((59, 70), (154, 78), (146, 171), (53, 163)), 4),
    QrPhoto("android-1/qrcode-4.jpg", _OWEN, ((55, 43), (200, 50), (188, 203), (36, 188)), 4),
    QrPhoto("android-1/fail-4.jpg", _OWEN, ((51, 15), (195, 39), (173, 181), (31, 164)), 4),
    QrPhoto("android-2/qrcode-1.png", _OWEN, ((115, 36), (301, 37), (300, 224), (113, 222)), 4),
)


class FetchError(Exception):
    """The photos could not be had; the message says why and what to do."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(cache: Path) -> Path:
    """The verified tarball in `cache`, downloaded if it is not there yet."""
    tarball = cache / URL.rsplit("/", 1)[1]
    if tarball.exists():
        if (digest := _sha256(tarball)) != SHA256:
            raise FetchError(f"{tarball} has SHA-256 {digest}, not the pinned {SHA256}; delete it to download again.")
        return tarball
    cache.mkdir(parents=True, exist_ok=True)
    part = tarball.with_name(tarball.name + ".part")
    print(f"downloading {URL} ({SIZE:,} bytes) into {cache}", file=sys.stderr)
    try:
        with urllib.request.urlopen(URL, timeout=30) as answer, part.open("wb") as out:
            while chunk := answer.read(1 << 16):
                out.write(chunk)
                if out.tell() > 2 * SIZE:
                    raise FetchError(f"{URL} sends more than {2 * SIZE:,} bytes; not the pinned file.")
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets are OSError
        part.unlink(missing_ok=True)
        raise FetchError(
            f"could not download {URL} ({exc}). Connect this machine to the network, or put the "
            f"file (SHA-256 {SHA256}) at {tarball}."
        ) from None
    except FetchError:
        part.unlink(missing_ok=True)
        raise
    if (digest := _sha256(part)) != SHA256:
        part.unlink()
        raise FetchError(
            f"{URL} gave a file with SHA-256 {digest}, not the pinned {SHA256} "
            "(Debian bookworm's Sources index); refusing to use it."
        )
    part.replace(tarball)
    return tarball


def extract(tarball: Path, cache: Path) -> dict[str, np.ndarray]:
    """The benchmark images by `folder/file`, also written under `cache` to look at."""
    out_dir = cache / "zxing-3.4.1-benchmark"
    images: dict[str, np.ndarray] = {}
    with tarfile.open(tarball, "r:xz") as tar:
        for member in tar:
            rel = member.name.removeprefix(BENCHMARK_DIR)
            folder, _, file = rel.partition("/")
            # The path is rebuilt from two checked parts, never taken from the archive as it is.
            if not member.isfile() or rel == member.name or folder not in FOLDERS or "/" in file:
                continue
            if not file.endswith(IMAGE_SUFFIXES):
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise FetchError(f"{member.name} in {tarball} is not an image OpenCV can read.")
            images[f"{folder}/{file}"] = image
            target = out_dir / folder / file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    missing = [p.name for p in QR_PHOTOS if p.name not in images]
    if missing:
        raise FetchError(f"{tarball} lacks the benchmark photos {', '.join(missing)}.")
    return images


# Degradations: each takes the photo, what is known of its code and a seeded generator, and
# gives back a new image; the generator is the only source of chance.
Degrader = Callable[[np.ndarray, QrPhoto, np.random.Generator], np.ndarray]


def _side(photo: QrPhoto) -> float:
    c = np.array(photo.corners, float)
    return float(np.mean(np.linalg.norm(c - np.roll(c, -1, axis=0), axis=1)))


def small(img: np.ndarray, photo: QrPhoto, rng: np.random.Generator) -> np.ndarray:
    """Downscaled until the code has 1.6-2.4 px per module (a code held far off)."""
    px = float(rng.uniform(1.6, 2.4))
    f = (17 + 4 * photo.version) * px / _side(photo)
    return cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


def no_quiet_zone(img: np.ndarray, photo: QrPhoto, rng: np.random.Generator) -> np.ndarray:
    """Cropped to the code's outline plus 0-1 px: no quiet zone left (a photo cut tight)."""
    c = np.array(photo.corners)
    pad = rng.integers(0, 2, size=4)
    x0, y0 = np.maximum(c.min(axis=0) - pad[:2], 0)
    x1, y1 = c.max(axis=0) + pad[2:] + 1
    return img[y0:y1, x0:x1].copy()


def low_jpeg(img: np.ndarray, photo: QrPhoto, rng: np.random.Generator) -> np.ndarray:
    """Saved again as JPEG at quality 10-20 (a photo passed round by messaging apps)."""
    return degrade(img, rng, jpeg=int(rng.integers(10, 21)))


def motion_blur(img: np.ndarray, photo: QrPhoto, rng: np.random.Generator) -> np.ndarray:
    """A hand that moved: a 4-8 px streak in a random direction (about 1-2 modules)."""
    return degrade(img, rng, motion=int(rng.integers(4, 9)))


def tilt(img: np.ndarray, photo: QrPhoto, rng: np.random.Generator) -> np.ndarray:
    """The photo turned 30-45 degrees away round a vertical or horizontal axis, seen by a
    pinhole camera (one side of the code nearer than the other), and rolled up to 10 degrees."""
    h, w = img.shape[:2]
    angle = math.radians(float(rng.uniform(30, 45))) * (1 if rng.random() < 0.5 else -1)
    roll = math.radians(float(rng.uniform(-10, 10)))
    f = 1.5 * max(w, h)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    pts = src - np.array([w / 2, h / 2], np.float32)
    along = 0 if rng.random() < 0.5 else 1  # turned round the vertical or the horizontal axis
    depth = pts[:, along] * math.sin(angle)
    flat = pts.copy()
    flat[:, along] = pts[:, along] * math.cos(angle)
    proj = flat * (f / (f + depth))[:, None]
    rot = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]])
    proj = proj @ rot.T
    dst = (proj - proj.min(axis=0)).astype(np.float32)
    size = tuple(int(v) + 1 for v in dst.max(axis=0))
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, size, flags=cv2.INTER_AREA, borderValue=(128, 128, 128))


def webcam(img: np.ndarray, photo: QrPhoto, rng: np.random.Generator) -> np.ndarray:
    """The photo at 0.7-1.1 times its size, rolled up to 12 degrees, on a 1280x720 desk
    frame (the code a fifth of the height or less), with a webcam's blur, noise and JPEG."""
    h, w = img.shape[:2]
    scale = float(rng.uniform(0.7, 1.1))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-12, 12)), scale)
    reach = 0.5 * scale * math.hypot(w, h)  # half the diagonal: the photo stays in the frame
    cx, cy = float(rng.uniform(reach, 1280 - reach)), float(rng.uniform(reach, 720 - reach))
    m[:, 2] += (cx - w / 2, cy - h / 2)
    frame = background(rng, 1280, 720)
    warped = cv2.warpAffine(img, m, (1280, 720), flags=cv2.INTER_AREA)
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), m, (1280, 720)) > 127
    frame[mask] = warped[mask]
    return degrade(frame, rng, blur=0.6, noise=3.0, jpeg=85)


DEGRADATIONS: dict[str, Degrader] = {
    "small": small,
    "no quiet zone": no_quiet_zone,
    "jpeg q10-20": low_jpeg,
    "motion blur": motion_blur,
    "tilt 30-45": tilt,
    "webcam 720p": webcam,
}


def degraded_shots(images: dict[str, np.ndarray], per_photo: int, seed: int) -> list[Shot]:
    """`per_photo` variants of each QR photo by each degradation; one generator per variant,
    so a change to one leaves every other frame as it was."""
    out = []
    for k, (category, degrader) in enumerate(DEGRADATIONS.items()):
        for i, photo in enumerate(QR_PHOTOS):
            for v in range(per_photo):
                rng = np.random.default_rng([seed, k, i, v])
                out.append(Shot(category, degrader(images[photo.name], photo, rng), photo.payload))
    return out


def no_qr_names(images: dict[str, np.ndarray]) -> list[str]:
    qr = {p.name for p in QR_PHOTOS}
    return [name for name in sorted(images) if name not in qr]


def frame_sets(images: dict[str, np.ndarray], per_photo: int, seed: int) -> list[Shot]:
    taken = [Shot(AS_TAKEN, images[p.name], p.payload) for p in QR_PHOTOS]
    # The payload "" is never a read: anything read here is wrong.
    others = [Shot(NO_QR, images[name], "") for name in no_qr_names(images)]
    return taken + degraded_shots(images, per_photo, seed) + others


_METRICS: tuple[tuple[str, Callable[[dict[str, Any], str], str]], ...] = (
    ("reads", lambda r, c: str(r["reads"].get(c, 0))),
    ("wrong reads", lambda r, c: str(r["wrong"])),
    ("wall median / p95 ms per frame", lambda r, c: f"{r['median_ms']:.1f} / {r['p95_ms']:.1f}"),
    # The decoding thread's own CPU time: the wall time less the waits for a core on a shared machine.
    ("cpu median / p95 ms per frame", lambda r, c: f"{r['cpu_median_ms']:.1f} / {r['cpu_p95_ms']:.1f}"),
)


def tables(results: dict[str, dict[str, dict[str, Any]]], counts: dict[str, int]) -> str:
    names = list(next(iter(results.values())))
    width = max(14, *(len(n) + 2 for n in names))
    head = "category".ljust(16) + "frames".rjust(7) + "".join(n.rjust(width) for n in names)
    out = []
    for title, cell in _METRICS:
        out += ["", f"-- {title}", head]
        for c, by_name in results.items():
            out.append(c.ljust(16) + str(counts[c]).rjust(7) + "".join(cell(by_name[n], c).rjust(width) for n in names))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ipkiosk-bench")
    parser.add_argument("--per-photo", type=int, default=4, help="variants of each photo per degradation")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-load", action="store_true", help="skip the scanner's second pass under CPU load")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    try:
        images = extract(fetch(args.cache), args.cache)
    except FetchError as exc:
        print(f"real_photos: {exc}", file=sys.stderr)
        return 2
    cv2.setNumThreads(1)  # per-frame latency on one core, as the capture thread sees it
    print(f"OpenCV {cv2.__version__}, 1 thread; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    frames = frame_sets(images, args.per_photo, args.seed)
    frames_digest = hashlib.sha256(b"".join(s.frame.tobytes() for s in frames)).hexdigest()[:16]
    by_category: dict[str, list[Shot]] = {}
    for shot in frames:
        by_category.setdefault(shot.category, []).append(shot)
    decoders = readers(token_shape=False)
    results = {c: {n: run(shots, read) for n, read in decoders.items()} for c, shots in by_category.items()}
    print(tables(results, {c: len(s) for c, s in by_category.items()}))
    print(f"\n-- what was read in the {len(by_category[NO_QR])} photos without a QR code")
    for n, r in results[NO_QR].items():
        reads = [f"{name} {p!r}" for name, p in zip(no_qr_names(images), r["payloads"], strict=True) if p]  # type: ignore[call-overload]
        print(f"{n}: {'; '.join(reads) or 'nothing'}")
    reads_digest = hashlib.sha256(
        json.dumps({c: {n: r["payloads"] for n, r in rs.items()} for c, rs in results.items()}).encode()
    ).hexdigest()[:16]
    print(f"\nframes digest {frames_digest}, reads digest {reads_digest} (seed {args.seed}; same on every run)")
    report: dict[str, object] = {
        "seed": args.seed,
        "frames_digest": frames_digest,
        "reads_digest": reads_digest,
        "categories": {
            c: {n: {k: v for k, v in r.items() if k != "payloads"} for n, r in rs.items()} for c, rs in results.items()
        },
    }
    if not args.no_load:
        first = [p for rs in results.values() for p in rs["scanner"]["payloads"]]  # type: ignore[attr-defined]
        ordered = [s for shots in by_category.values() for s in shots]
        same, ms = same_under_load(ordered, first, token_shape=False)
        print(f"scanner again with all {os.cpu_count()} cores busy: {ms:.1f} ms/frame, same results: {same}")
        report["same_under_load"] = same
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
