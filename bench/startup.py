"""Start-up of the kiosk against a bare Textual app: time to the first screen drawn, peak RSS.

Each run is a fresh process (imports included, as a kiosk start is), timed from just before the
process is spawned to the App's Ready event (the first frame is on screen), in headless mode.
Prints the median of --runs for both and the ratios. Goal (issue 3): ratio <= 1.5.

    .venv/bin/python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
start = float(sys.argv[2])
from textual import events
if sys.argv[1] == "bare":
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("Two-factor authentication for iPrescribe")

    app = Bare()
else:
    from pathlib import Path
    from kiosk.app import create_app
    from kiosk.config import load_settings
    from kiosk.services import build_services

    settings = load_settings(Path(sys.argv[3]))
    app = create_app(settings, build_services(settings))

def ready(event):
    elapsed = time.time() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "rss_mb": rss}))
    app.exit()

app._on_ready_bench = ready
original = app.on_event
async def on_event(event):
    await original(event)
    if isinstance(event, events.Ready):
        ready(event)
app.on_event = on_event
app.run(headless=True, size=(100, 32))
"""


def one(kind: str, data_dir: Path) -> dict[str, float]:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, repr(start), str(data_dir)],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=120,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "kiosk.cli", "--data-dir", str(data_dir), "demo", "--build-only"],
                       cwd=ROOT, check=True, capture_output=True)
        results: dict[str, list[dict[str, float]]] = {"bare": [], "kiosk": []}
        for _ in range(args.runs):  # interleaved, so load changes hit both alike
            for kind in results:
                results[kind].append(one(kind, data_dir))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("seconds", "rss_mb")} for k, v in results.items()}
    print(f"start-up to first screen (median of {args.runs}, headless 100x32)")
    print(f"{'':<8}{'seconds':>10}{'peak RSS MB':>14}")
    for kind in ("bare", "kiosk"):
        print(f"{kind:<8}{med[kind]['seconds']:>10.3f}{med[kind]['rss_mb']:>14.1f}")
    t_ratio = med["kiosk"]["seconds"] / med["bare"]["seconds"]
    m_ratio = med["kiosk"]["rss_mb"] / med["bare"]["rss_mb"]
    print(f"{'ratio':<8}{t_ratio:>10.2f}{m_ratio:>14.2f}   (goal <= 1.5)")


if __name__ == "__main__":
    main()
