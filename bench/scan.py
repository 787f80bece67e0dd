"""Benchmark: how well and how fast the kiosk's scanner reads cronto images from webcam frames.

    .venv/bin/python bench/scan.py [--per-category 24] [--seed 2024] [--json out.json]

Regenerates seeded synthetic 1280x720 frames (tests/frames.py: nominal, small, rotation,
perspective, blur, noise, low contrast, dark, JPEG, combined) on every run and decodes each
with: this scanner (kiosk.camera.Decoder), the same without libzbar (OpenCV engine), raw pyzbar
(`pyzbar.decode` on the grayscale frame), raw OpenCV `QRCodeDetector.detectAndDecode`, and
zxing-cpp (the `bench` extra) as a yardstick. A read counts only when it equals the payload.
Prints the decode rate per category and median / p95 milliseconds per frame. Figures depend on
the machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.camera.decoder import Decoder
from tests.frames import CATEGORIES, Shot, shots

GOALS = "goals: scanner overall >= zxing-cpp, perspective >= 90%, median <= 15 ms, p95 <= 60 ms"
ReadFn = Callable[[np.ndarray], "str | None"]


def readers() -> dict[str, ReadFn]:
    found: dict[str, ReadFn] = {}
    scanner = Decoder()
    found["scanner"] = scanner.decode
    no_zbar = Decoder(engine="opencv")
    found["scanner (no zbar)"] = no_zbar.decode

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
        text, _, _ = detector.detectAndDecode(frame)
        return text or None

    found["opencv raw"] = raw_opencv

    try:
        import zxingcpp

        def zxing(frame: np.ndarray) -> str | None:
            results = zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)
            return results[0].text if results else None

        found["zxing-cpp"] = zxing
    except ImportError:
        print("zxing-cpp not installed (pip install -e '.[bench]'); yardstick skipped", file=sys.stderr)
    return found


def run(frames: list[Shot], read: ReadFn) -> dict[str, object]:
    ok: Counter[str] = Counter()
    wrong = 0
    times: list[float] = []
    for shot in frames:
        start = time.perf_counter()
        payload = read(shot.frame)
        times.append((time.perf_counter() - start) * 1000)
        if payload == shot.payload:
            ok[shot.category] += 1
        elif payload is not None:
            wrong += 1
    total = Counter(s.category for s in frames)
    return {
        "rate": {c: ok[c] / total[c] for c in total},
        "overall": sum(ok.values()) / len(frames),
        "wrong": wrong,
        "median_ms": statistics.median(times),
        "p95_ms": float(np.percentile(times, 95)),
    }


def table(results: dict[str, dict[str, object]], categories: tuple[str, ...]) -> str:
    names = list(results)
    width = max(14, *(len(n) + 2 for n in names))
    lines = ["category".ljust(14) + "".join(n.rjust(width) for n in names)]
    for c in categories:
        cells = "".join(f"{results[n]['rate'][c]:.0%}".rjust(width) for n in names)  # type: ignore[index]
        lines.append(c.ljust(14) + cells)
    lines.append("-" * len(lines[0]))
    rows = (
        ("overall", "overall", "{:.1%}"),
        ("median ms", "median_ms", "{:.1f}"),
        ("p95 ms", "p95_ms", "{:.1f}"),
        ("wrong reads", "wrong", "{}"),
    )
    for label, key, fmt in rows:
        lines.append(label.ljust(14) + "".join(fmt.format(results[n][key]).rjust(width) for n in names))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-category", type=int, default=24, help="frames per category (default 24)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # per-frame latency on one core, as the capture thread sees it
    t0 = time.perf_counter()
    frames = list(shots(args.per_category, args.seed))
    print(
        f"{len(frames)} frames 1280x720, seed {args.seed}, generated in "
        f"{time.perf_counter() - t0:.1f} s; OpenCV {cv2.__version__}, 1 thread"
    )
    results = {name: run(frames, read) for name, read in readers().items()}
    print(table(results, CATEGORIES))
    print(GOALS)
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "frames": len(frames), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
