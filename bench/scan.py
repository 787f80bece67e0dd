"""Benchmark: how well and how fast the kiosk's scanner reads cronto images from webcam frames.

    .venv/bin/python bench/scan.py [--per-category 24] [--seed 2024] [--json out.json]
        [--set webcam|photos|both] [--images DIR]

Regenerates seeded frames on every run, in two sets:
- webcam: synthetic 1280x720 frames (tests/frames.py: nominal, small, rotation, perspective,
  blur, noise, low contrast, dark, JPEG, combined);
- photos: imitations of real photographs (tests/photo_frames.py: no quiet zone, 1 px per
  module, curved or wrinkled, screen with moire and glare, small on texture, nested, square
  distractors, and Shift-JIS/Big5 codes). Imitations only: no real photograph is in them.
  With them, a third set: `bottle`, a label round a bottle seen by a pinhole camera (curved
  outline, modules narrowing to the sides, shading), nearer a real photo than `curved`.
`--images DIR` adds real image files named `<anything>.<ext>` with the expected payload in
`<same name>.txt` beside them (none ship with the project); there the scanner runs without the
token-shape check (any printable ASCII payload), and non-ASCII payloads are never its reads.

Each frame is decoded by: this scanner as the kiosk runs it (kiosk.camera.Decoder with the
token-shape check), the same without libzbar (OpenCV engine), raw pyzbar (`pyzbar.decode` on
the grayscale frame), raw OpenCV `QRCodeDetector.detectAndDecode`, and zxing-cpp (the `bench`
extra) as a yardstick. A read counts only when it equals the payload; for the foreign-text
codes any text but the code's own is a wrong read (the kiosk's right answer is no read).
Prints the decode rate per category, median / p95 milliseconds per frame, and whether a second
pass of the scanner under CPU load gives the same results. Figures depend on the machine;
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cronto import looks_like_enrollment_token
from kiosk.camera.decoder import DEFAULT_BUDGET, Decoder
from tests.frames import CATEGORIES, Shot, background, fake_token, place, pose, shots
from tests.photo_frames import FOREIGN_CATEGORY, PHOTO_CATEGORIES, _camera, modules, photo_shots, render

GOALS = "goals: scanner >= zxing-cpp in each set, no wrong reads, same results under load, p95 <= 50 ms per frame"
ReadFn = Callable[[np.ndarray], "str | None"]


BUDGET = DEFAULT_BUDGET


BOTTLE_CATEGORY = "bottle"


def bottle(rng: np.random.Generator) -> Shot:
    """A code printed on a label round a bottle, photographed by a pinhole camera: closer to a
    real photo than tests/photo_frames.py's `curved` (a 2-D remap that keeps a straight outline
    and stretches modules at the sides). Here a point at angle phi round the axis lands at
    x = f R sin(phi) / (D - R cos(phi)): modules narrow towards the sides, the label's top and
    bottom edges bow (the sides are further from the camera), and the light falls off as the
    surface turns away. The axis is vertical, then the whole view is rolled and tilted a little."""
    payload = fake_token(rng)
    card = render(modules(payload), 8, 4)
    h, w = card.shape
    arc = float(rng.uniform(0.8, 1.6))  # radians of the bottle the label covers
    radius = w / arc
    dist = radius * float(rng.uniform(3.0, 6.0))  # camera to the bottle's axis
    f = dist - radius  # the label's middle at 1 image px per card px
    half_x = f * radius * math.sin(arc / 2) / (dist - radius * math.cos(arc / 2))
    out_w, out_h = int(2 * half_x * 1.15), int(h * 1.15)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    x, y = xx - out_w / 2, yy - out_h / 2
    # Invert x = f R sin(phi) / (D - R cos(phi)) for the front of the bottle.
    hyp = radius * np.sqrt(f * f + x * x)
    phi = np.arcsin(np.clip(x * dist / hyp, -1, 1)) - np.arctan2(x, f)
    depth = dist - radius * np.cos(phi)
    map_x = (radius * phi + w / 2).astype(np.float32)
    map_y = (y * depth / f + h / 2).astype(np.float32)
    label = cv2.remap(card, map_x, map_y, cv2.INTER_AREA, borderValue=0)
    on_label = (np.abs(radius * phi) <= w / 2) & (np.abs(y * depth / f) <= h / 2)
    glass = float(rng.uniform(60, 140))  # the bottle round the label
    img = np.where(on_label, label.astype(np.float64), glass)
    light = float(rng.uniform(-0.4, 0.4))  # where the light comes from, round the axis
    img = img * (0.5 + 0.5 * np.clip(np.cos(phi - light), 0, 1))
    side = float(rng.uniform(300, 440)) * out_w / w
    corners = pose(rng, side, roll=float(rng.uniform(-8, 8)), tilt_x=float(rng.uniform(-10, 10)))
    # pose() draws a square; the view keeps the image's own aspect ratio.
    centre = corners.mean(axis=0)
    corners = centre + (corners - centre) * np.array([1.0, out_h / out_w])
    frame, _ = place(np.clip(img, 0, 255).astype(np.uint8), background(rng, 1280, 720), corners)
    return Shot(BOTTLE_CATEGORY, _camera(frame, rng, blur=0.8, noise=3.0), payload)


def bottle_shots(per_category: int, seed: int) -> list[Shot]:
    """Seeded apart from the other imitations, so adding this set leaves those frames as they were."""
    rng = np.random.default_rng([seed, 7])
    return [bottle(rng) for _ in range(per_category)]


def readers(token_shape: bool = True) -> dict[str, ReadFn]:
    """The readers compared; `token_shape` False (real images, whose payloads are not tokens)
    drops the kiosk's shape check, so the scanner takes any printable ASCII payload."""
    found: dict[str, ReadFn] = {}
    accept = looks_like_enrollment_token if token_shape else None
    found["scanner"] = Decoder(BUDGET, accept=accept).decode
    found["scanner (no zbar)"] = Decoder(BUDGET, engine="opencv", accept=accept).decode

    try:
        from pyzbar import pyzbar

        def raw_pyzbar(frame: np.ndarray) -> str | None:
            symbols = pyzbar.decode(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
            return symbols[0].data.decode("utf-8", "replace") if symbols else None

        found["pyzbar raw"] = raw_pyzbar
    except ImportError as exc:
        print(f"pyzbar unavailable: {exc}", file=sys.stderr)

    detector = cv2.QRCodeDetector()

    def raw_opencv(frame: np.ndarray) -> str | None:
        try:
            text, _, _ = detector.detectAndDecode(frame)
        except UnicodeDecodeError:  # the crash the kiosk used to have; here, just no read
            return None
        return text or None

    found["opencv raw"] = raw_opencv

    try:
        import zxingcpp

        def zxing(frame: np.ndarray) -> str | None:
            results = zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
            return results[0].text if results else None

        found["zxing-cpp"] = zxing
    except ImportError:
        print("zxing-cpp not installed (pip install -e '.[bench]'); yardstick skipped", file=sys.stderr)
    return found


def run(frames: list[Shot], read: ReadFn) -> dict[str, object]:
    ok: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    times: list[float] = []
    cpu: list[float] = []
    payloads: list[str | None] = []
    for shot in frames:
        start, start_cpu = time.perf_counter(), time.thread_time()
        payload = read(shot.frame)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        payloads.append(payload)
        if payload == shot.payload:
            ok[shot.category] += 1
        elif payload is not None:
            wrong[shot.category] += 1
    total = Counter(s.category for s in frames)
    scored = [c for c in total if c != FOREIGN_CATEGORY]
    n_scored = sum(total[c] for c in scored)
    return {
        "rate": {c: ok[c] / total[c] for c in total},
        "reads": {c: ok[c] for c in total},
        "overall": sum(ok[c] for c in scored) / max(1, n_scored),
        "wrong": sum(wrong.values()),
        "wrong_by_category": dict(wrong),
        "median_ms": statistics.median(times),
        "p95_ms": float(np.percentile(times, 95)),
        "max_ms": max(times),
        # CPU time of the decoding thread: what the frame costs, less the waits for a core
        # that other processes on a shared machine cause.
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p95_ms": float(np.percentile(cpu, 95)),
        "payloads": payloads,
    }


def table(results: dict[str, dict[str, object]], categories: list[str]) -> str:
    names = list(results)
    width = max(14, *(len(n) + 2 for n in names))
    lines = ["category".ljust(16) + "".join(n.rjust(width) for n in names)]
    for c in categories:
        if c == FOREIGN_CATEGORY:
            cells = "".join(f"{results[n]['wrong_by_category'].get(c, 0)} wrong".rjust(width) for n in names)  # type: ignore[attr-defined]
        else:
            cells = "".join(f"{results[n]['rate'][c]:.0%}".rjust(width) for n in names)  # type: ignore[index]
        lines.append(c.ljust(16) + cells)
    lines.append("-" * len(lines[0]))
    rows = (
        ("overall", "overall", "{:.1%}"),
        ("wall median ms", "median_ms", "{:.1f}"),
        ("wall p95 ms", "p95_ms", "{:.1f}"),
        ("wall max ms", "max_ms", "{:.1f}"),
        ("cpu median ms", "cpu_median_ms", "{:.1f}"),
        ("cpu p95 ms", "cpu_p95_ms", "{:.1f}"),
        ("wrong reads", "wrong", "{}"),
    )
    for label, key, fmt in rows:
        lines.append(label.ljust(16) + "".join(fmt.format(results[n][key]).rjust(width) for n in names))
    return "\n".join(lines)


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1


def same_under_load(frames: list[Shot], first: list[str | None], token_shape: bool = True) -> tuple[bool, float]:
    """The scanner again with every core kept busy by spinning processes: same payloads?"""
    n = os.cpu_count() or 2
    procs = [multiprocessing.Process(target=_spin, args=(600.0,), daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        t0 = time.perf_counter()
        decoder = Decoder(BUDGET, accept=looks_like_enrollment_token if token_shape else None)
        again = [decoder.decode(s.frame) for s in frames]
        per_frame = (time.perf_counter() - t0) * 1000 / max(1, len(frames))
    finally:
        for p in procs:
            p.terminate()
            p.join()
    return again == first, per_frame


def load_images(folder: Path) -> list[Shot]:
    found = []
    for path in sorted(folder.iterdir()):
        expected = path.with_suffix(".txt")
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"} and expected.exists():
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                found.append(Shot("real:" + folder.name, image, expected.read_text().strip()))
    return found


def bench(
    name: str, frames: list[Shot], categories: list[str], load: bool, token_shape: bool = True
) -> dict[str, object]:
    print(f"\n== {name}: {len(frames)} frames ==")
    results = {n: run(frames, read) for n, read in readers(token_shape).items()}
    print(table(results, categories))
    out: dict[str, object] = {n: {k: v for k, v in r.items() if k != "payloads"} for n, r in results.items()}
    if load:
        same, ms = same_under_load(frames, results["scanner"]["payloads"])  # type: ignore[arg-type]
        print(f"scanner again with all {os.cpu_count()} cores busy: {ms:.1f} ms/frame, same results: {same}")
        out["same_under_load"] = same
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-category", type=int, default=24, help="frames per category (default 24)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--set", choices=("webcam", "photos", "both"), default="both")
    parser.add_argument("--images", type=Path, help="a folder of real images, each with a .txt payload")
    parser.add_argument("--no-load", action="store_true", help="skip the second pass under CPU load")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="scanner work budget (pixels)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    global BUDGET
    BUDGET = args.budget
    cv2.setNumThreads(1)  # per-frame latency on one core, as the capture thread sees it
    print(
        f"OpenCV {cv2.__version__}, 1 thread; load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    report: dict[str, object] = {"seed": args.seed}
    if args.set in ("webcam", "both"):
        frames = list(shots(args.per_category, args.seed))
        report["webcam"] = bench("webcam (synthetic 1280x720)", frames, list(CATEGORIES), not args.no_load)
    if args.set in ("photos", "both"):
        frames = list(photo_shots(args.per_category, args.seed))
        cats = [*PHOTO_CATEGORIES, FOREIGN_CATEGORY]
        report["photos"] = bench("photos (imitations of real photographs)", frames, cats, not args.no_load)
        frames = bottle_shots(args.per_category, args.seed)
        name = "bottle (a label round a bottle, pinhole camera)"
        report["bottle"] = bench(name, frames, [BOTTLE_CATEGORY], not args.no_load)
    if args.images:
        frames = load_images(args.images)
        if frames:
            report["images"] = bench(f"real images in {args.images}", frames, [frames[0].category], False, False)
        else:
            print(f"no image with a .txt payload beside it in {args.images}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print(GOALS)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
