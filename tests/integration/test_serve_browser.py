"""`ipkiosk serve` in a real headless chromium, driven over its DevTools protocol: the page loads,
an IT user signs in with password and code, the token inventory shows, and leaving the IT area
ends that browser session.

The screen is read from the page's own xterm.js terminal (its public buffer API), so what is
checked is what the browser drew from the stream, after its keystrokes went the browser's way in.
Without chromium the test skips; under CI (`CI=true`) it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import websocket  # websocket-client, in the test extras
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("websocket-client is not installed (pip install -e '.[test]')", allow_module_level=True)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--remote-debugging-port=0",
)
IPKIOSK = [sys.executable, "-m", "kiosk.cli"]
# textual-serve keeps its xterm.js Terminal in a closure; it assigns it as `this.terminal = ...`,
# which passes through this setter first: the page's terminal, kept where the test can read it.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    if (value && value.buffer && !window.__terminal) { window.__terminal = value; }
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""
SCREEN_TEXT = """(() => {
  const t = window.__terminal;
  if (!t) { return ""; }
  const lines = [];
  for (let i = 0; i < t.rows; i++) {
    const line = t.buffer.active.getLine(i);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()"""
# The screen position (CSS pixels) of the middle of the first place `text` shows, or null.
FIND_TEXT = """((text) => {
  const t = window.__terminal;
  for (let row = 0; row < t.rows; row++) {
    const line = t.buffer.active.getLine(row);
    const col = line ? line.translateToString(true).indexOf(text) : -1;
    if (col >= 0) {
      const box = t.element.querySelector(".xterm-screen").getBoundingClientRect();
      return [box.left + (col + text.length / 2) * box.width / t.cols, box.top + (row + 0.5) * box.height / t.rows];
    }
  }
  return null;
})(%s)"""
# Where the terminal's cursor is: Textual puts it at the caret of the focused text field.
FIELD_SIDES = ("▊", "▎", "┃")
CURSOR = "[window.__terminal.buffer.active.cursorX, window.__terminal.buffer.active.cursorY]"


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "chromium is not installed (Debian: apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test needs chromium under CI: {reason}")
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class DevTools:
    """One page of the browser, over its DevTools websocket: commands and their answers."""

    def __init__(self, url: str) -> None:
        # Chromium refuses DevTools clients that send an Origin it was not told about.
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:  # events in between are not needed here
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")

    def screen(self) -> str:
        return str(self.evaluate(SCREEN_TEXT))

    def key(self, key: str, key_code: int, text: str = "", modifiers: int = 0) -> None:
        common = {"key": key, "code": key, "windowsVirtualKeyCode": key_code, "modifiers": modifiers}
        self.call("Input.dispatchKeyEvent", type="keyDown", text=text, unmodifiedText=text, **common)
        self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    def type(self, text: str, shown: str | None = None) -> None:
        """Type into the terminal, a keypress per character, and wait until the field shows it."""
        for char in text:
            self.call("Input.dispatchKeyEvent", type="char", text=char, unmodifiedText=char, key=char)
        self.wait_for_text(text if shown is None else shown)

    def enter(self) -> None:
        self.key("Enter", 13, "\r")

    def cursor_row(self) -> int:
        return int(self.evaluate(CURSOR)[1])

    def wait_for_field(self, not_row: int | None = None) -> int:
        """Wait until a text field has the focus (the cursor sits in a field's box), and not the
        one on `not_row`: keys typed before the focus moved would land in the old field."""

        def in_field() -> int | None:
            row = self.cursor_row()
            lines = self.screen().splitlines()
            # A field's side: the tall block, or the heavy line a focused field is drawn with.
            return row if row != not_row and row < len(lines) and any(c in lines[row] for c in FIELD_SIDES) else None

        try:
            row: int = wait_for("a text field to have the focus", in_field)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; cursor at {self.evaluate(CURSOR)} on:\n{self.screen()}") from None
        return row

    def click(self, text: str) -> None:
        """Click where `text` shows, as a person would with the mouse."""
        x, y = wait_for(f"{text!r} to click on", lambda: self.evaluate(FIND_TEXT % json.dumps(text)))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def wait_for_text(self, text: str, timeout: float = 30.0) -> str:
        try:
            screen: str = wait_for(f"{text!r} on screen", lambda: (s := self.screen()) and text in s and s, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the browser shows:\n{self.screen()}") from None
        return screen

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "demo"
    subprocess.run([*IPKIOSK, "demo", "--build-only", "--data-dir", str(data_dir)], check=True, capture_output=True)
    return data_dir


@pytest.fixture
def served(demo_dir: Path, tmp_path: Path) -> Iterator[str]:
    """`ipkiosk serve` on a free loopback port; yields its URL."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*IPKIOSK, "--data-dir", str(demo_dir), "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"ipkiosk serve ended: {(tmp_path / 'serve.log').read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    try:
        wait_for("ipkiosk serve to answer", answers)
        yield url
    finally:
        stop(server)
        log.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[DevTools]:
    binary = chromium_binary()
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    devtools: DevTools | None = None
    try:
        active = profile / "DevToolsActivePort"
        wait_for("chromium's DevTools port", lambda: active.exists() and len(active.read_text().split()) == 2)
        port = int(active.read_text().split()[0])

        def page_target() -> str | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                pages = [t for t in json.load(response) if t["type"] == "page"]
            return str(pages[0]["webSocketDebuggerUrl"]) if pages else None

        devtools = DevTools(wait_for("chromium's page", page_target))
        devtools.call("Page.enable")
        devtools.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        stop(browser)


def current_code(demo_dir: Path, serial: str) -> str:
    out = subprocess.run(
        [*IPKIOSK, "--data-dir", str(demo_dir), "--json", "token-sim", "--once", serial],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    code: str = json.loads(out)["code"]
    return code


def it_sign_in(page: DevTools, demo_dir: Path) -> None:
    """Username, password, then the code of it.admin's token, typed into the browser page."""
    page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
    # Into the field (its placeholder), as a person at a browser does: the tab took the focus
    # after the screen had given it to the field, and Textual has no field to give it back to.
    page.click("  username")
    username_row = page.wait_for_field()
    page.type("it.admin")
    page.enter()
    page.wait_for_field(not_row=username_row)
    page.type("demo-password", shown="•" * len("demo-password"))
    page.enter()
    # The password alone opens nothing. The code field gets the focus in the same step that
    # shows it, so once it shows, typing goes there.
    page.wait_for_text("Security code")
    assert "Signed in as" not in page.screen()
    page.type(current_code(demo_dir, "DEMO-IT01"))
    page.enter()
    page.wait_for_text("Signed in as")


def test_it_staff_sign_in_and_see_the_token_inventory_in_a_browser(served: str, page: DevTools, demo_dir: Path) -> None:
    page.call("Page.navigate", url=served)
    page.wait_for_text("IT staff sign-in")
    assert page.evaluate("document.body.classList.contains('-first-byte')")  # textual-serve's "app is up"
    assert "Set up two-factor authentication" not in page.screen()  # no provider flow here
    it_sign_in(page, demo_dir)

    page.click("Token inventory")
    screen = page.wait_for_text("DEMO-IT01")
    assert "Token inventory" in screen
    assert "DEMO-0001" in screen
    assert "demo-password" not in screen


def test_leaving_the_it_area_ends_the_browser_session(served: str, page: DevTools, demo_dir: Path) -> None:
    page.call("Page.navigate", url=served)
    page.wait_for_text("IT staff sign-in")
    it_sign_in(page, demo_dir)
    page.click("Leave the kiosk")
    wait_for("the page's 'Session ended'", lambda: page.evaluate("document.body.classList.contains('-closed')"))


def test_a_page_from_another_origin_cannot_open_the_console(served: str) -> None:
    ws_url = served.replace("http://", "ws://") + "ws"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url, timeout=10, origin="http://attacker.example")
    assert refused.value.status_code == 403
    own = websocket.create_connection(ws_url, timeout=10, origin=served.rstrip("/"))
    own.close()


def test_serve_refuses_a_network_address_without_the_flag(demo_dir: Path) -> None:
    result = subprocess.run(
        [*IPKIOSK, "--data-dir", str(demo_dir), "serve", "--host", "0.0.0.0"],  # noqa: S104 - refused
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_said_plainly(demo_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*IPKIOSK, "--data-dir", str(demo_dir), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert "pick another with --port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.8.9.10", True),
        ("10.0.0.5", False),
        ("0.0.0.0", False),  # noqa: S104 - refused
        ("::", False),
        ("kiosk-it.example.org", False),
    ],
)
def test_only_loopback_without_the_flag(host: str, allowed: bool) -> None:
    from core.errors import ConfigError
    from kiosk.serve import check_host

    if allowed:
        check_host(host, allow_remote=False)
    else:
        with pytest.raises(ConfigError, match="not a loopback address"):
            check_host(host, allow_remote=False)
        check_host(host, allow_remote=True)


def test_origins_compare_as_browsers_send_them() -> None:
    from kiosk.serve import ConsoleServer, origin_of

    assert origin_of("https://IT.example.org:443/") == "https://it.example.org"
    assert origin_of("https://it.example.org:8443/x") == "https://it.example.org:8443"
    behind_proxy = ConsoleServer("true", "127.0.0.1", 8000, "https://it.example.org")
    assert behind_proxy.allowed_origins == {"https://it.example.org"}  # not the loopback page
    local = ConsoleServer("true", "::1", 8000)
    assert "http://[::1]:8000" in local.allowed_origins
    assert local.public_url == "http://[::1]:8000"
