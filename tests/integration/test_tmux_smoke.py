"""Run `ipkiosk demo` in a real terminal (tmux) and read the screen as a person would."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

tmux = shutil.which("tmux") or ""  # "" only where the module is skipped
pytestmark = pytest.mark.skipif(not tmux, reason="tmux is not installed")
IPKIOSK = str(Path(sys.executable).with_name("ipkiosk"))


def capture(session: str) -> str:
    return subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def wait_for(session: str, *texts: str, timeout: float = 30.0) -> str:
    """The screen once all `texts` are on it (a terminal draws a screen over a few frames)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if all(t in screen for t in texts):
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{texts!r} never all appeared; screen was:\n{screen}")


def keys(session: str, *k: str) -> None:
    subprocess.run([tmux, "send-keys", "-t", session, *k], check=True)


def test_demo_in_tmux_shows_welcome_and_signs_in(tmp_path: Path) -> None:
    session = f"ipk-{uuid.uuid4().hex[:8]}"
    # Short (not pytest's tmp_path, longer under xdist): the guide's lines must fit 100 columns.
    data = Path(tempfile.mkdtemp(prefix="ipk-")) / "demo"
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "32"], check=True)
    try:
        keys(session, f"{IPKIOSK} --data-dir {data} demo", "Enter")
        guide = wait_for(session, "Press Enter to start the kiosk")
        assert "demo-password" in guide and "token-sim" in guide
        keys(session, "Enter")
        screen = wait_for(session, "Two-factor authentication for iPrescribe", "Set up two-factor authentication")
        assert "DEMO KIOSK" in screen
        keys(session, "C-q")
        keys(session, "C-c")
        time.sleep(1)
        assert "Two-factor authentication for iPrescribe" in capture(session)  # still running
        keys(session, "Enter")
        wait_for(session, "Sign in to iPrescribe", "Password")
        time.sleep(0.5)  # as a person would: look, then type
        keys(session, "dr.okafor", "Enter")
        time.sleep(0.5)  # a person's pause between fields: focus moves on Enter
        keys(session, "demo-password", "Enter")
        screen = wait_for(session, "Security Settings › Two-Factor Authentication", "No two-factor method is bound")
        assert "demo-password" not in screen
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], check=False)
