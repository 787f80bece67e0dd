"""Start-up of the kiosk against a bare Textual app: time to the first screen drawn, peak RSS.

Each run is a fresh process (imports included, as a kiosk start is), timed from just before the
process is spawned to the App's Ready event (the first frame is on screen), in headless mode. The
kiosk is started the way `ipkiosk run` starts it: settings read, then the App, which opens the
store, keyring and directory in a worker after its first frame. The same child also reports the
time until those are open ("ready to sign in").
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
    settings = load_settings(Path(sys.argv[3]))
    app = create_app(settings)  # as `ipkiosk run` does: the store opens after the first frame

def ready(event):
    first = time.time() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    session = getattr(app, "session", None)

    def finish():
        usable = (time.time() - start) if session is not None else first
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": first, "rss_mb": rss, "usable_s": usable, "peak_rss_mb": peak}))
        app.call_from_thread(app.exit)

    import threading

    def wait_ready():
        if session is not None:
            session.ready.wait(60)
        finish()

    threading.Thread(target=wait_ready, daemon=True).start()

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
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "demo"
        subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "--data-dir", str(data_dir), "demo", "--build-only"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        results: dict[str, list[dict[str, float]]] = {"bare": [], "kiosk": []}
        for _ in range(args.runs):  # interleaved, so load changes hit both alike
            for kind in results:
                results[kind].append(one(kind, data_dir))
    metrics = ("seconds", "rss_mb", "usable_s", "peak_rss_mb")
    med = {k: {m: statistics.median(r[m] for r in v) for m in metrics} for k, v in results.items()}
    print(f"start-up (median of {args.runs}, headless 100x32)")
    print(f"{'':<8}{'first screen s':>16}{'RSS MB then':>13}{'ready to sign in s':>20}{'peak RSS MB':>13}")
    for kind in ("bare", "kiosk"):
        m = med[kind]
        print(f"{kind:<8}{m['seconds']:>16.3f}{m['rss_mb']:>13.1f}{m['usable_s']:>20.3f}{m['peak_rss_mb']:>13.1f}")
    ratios = {m: med["kiosk"][m] / med["bare"][m] for m in metrics}
    print(
        f"{'ratio':<8}{ratios['seconds']:>16.2f}{ratios['rss_mb']:>13.2f}{ratios['usable_s']:>20.2f}"
        f"{ratios['peak_rss_mb']:>13.2f}   (goal: first screen and RSS <= 1.5)"
    )


if __name__ == "__main__":
    main()
