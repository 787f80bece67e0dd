"""A kiosk App on a copy of the demo data, with a manual clock, for Pilot and snapshot tests."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from core.clock import ManualClock
from kiosk.app import KioskApp, create_app
from kiosk.config import load_settings
from kiosk.demo import build_demo
from kiosk.services import Services, build_services
from tests.conftest import T0

SIZE = (100, 32)
# Every screen must fit and read at the smallest terminal a kiosk may have (issue 13) too.
SIZES = {"100x32": SIZE, "80x24": (80, 24)}
PASSWORD = "demo-password"
# Pilot is invariant in the App's return type: the helpers take any App's pilot, not only App[object]'s.
ReturnT = TypeVar("ReturnT")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo-template") / "demo"
    build_demo(d, clock=ManualClock(T0)).close()
    return d


@dataclass
class Kiosk:
    app: KioskApp
    services: Services
    clock: ManualClock
    data_dir: Path

    def code(self, serial: str, offset: int = 0) -> str:
        return self.services.system.tokens.code_now(serial, offset_steps=offset)[0]


def make_kiosk(demo_template: Path, tmp_path: Path, clock: ManualClock, **overrides: object) -> Kiosk:
    data_dir = tmp_path / "demo"
    shutil.copytree(demo_template, data_dir)
    settings = load_settings(data_dir, **overrides)
    services = build_services(settings, clock=clock)
    return Kiosk(create_app(settings, services), services, clock, data_dir)


@pytest.fixture
def kiosk(demo_template: Path, tmp_path: Path, clock: ManualClock) -> Iterator[Kiosk]:
    k = make_kiosk(demo_template, tmp_path, clock)
    yield k
    k.services.close()


def kiosk_app(pilot: Pilot[ReturnT]) -> KioskApp:
    """The pilot's App as the kiosk it is (its session, its actions)."""
    assert isinstance(pilot.app, KioskApp)
    return pilot.app


async def workers_done(pilot: Pilot[ReturnT]) -> None:
    # A worker that raised has been handled by the App (the failure screen), and one replaced
    # by a newer call was cancelled (its answer is dropped): only wait for them.
    with contextlib.suppress(WorkerFailed, WorkerCancelled):
        await pilot.app.workers.wait_for_complete()


def _measuring(app: object) -> bool:
    """Whether a DataTable on any screen of the stack (a dialog's too, and the page under it,
    which a snapshot shows) still has to measure its columns."""
    from textual.app import App
    from textual.widgets import DataTable

    assert isinstance(app, App)
    # A private flag: nothing public says "columns measured", and until then the header is drawn
    # with the labels' widths.
    return any(t._require_update_dimensions for s in app.screen_stack for t in s.query(DataTable))


def _busy(app: object) -> bool:
    from textual.app import App
    from textual.worker import WorkerState

    assert isinstance(app, App)
    return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)


async def settle(pilot: Pilot[ReturnT]) -> None:
    """Let workers finish and the screen redraw, tables included. A step's screen is prepared
    on a worker (its entry call) and then built, which may start workers of its own."""
    # A worker's result is handed to the screen a moment after the worker ends, and its handler
    # may push a screen or start another worker: a round waits for the workers, lets the screen
    # take what they sent, and waits for the tables to measure. Done once a round ends on the
    # screen it began on with no worker left (at least two rounds, so a handler's own messages
    # are in); up to 5 s of measuring a round, since 1 s was once not enough under load.
    for round_ in range(6):
        began_on = pilot.app.screen
        await workers_done(pilot)
        await pilot.pause()
        for _ in range(100):
            if not _measuring(pilot.app):
                break
            await pilot.pause(0.05)
        if round_ >= 1 and pilot.app.screen is began_on and not _busy(pilot.app):
            break
    await pilot.pause()


async def fill(pilot: Pilot[ReturnT], selector: str, text: str, submit: bool = False, *, type_it: bool = False) -> None:
    """Put `text` in a field (typed key by key with type_it, else set) and maybe press Enter."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    if type_it:
        await pilot.press(*text)
    else:
        field.value = text
    if submit:
        await pilot.press("enter")
    await settle(pilot)


def screen_text(pilot: Pilot[ReturnT]) -> str:
    """Everything the current screen shows, as plain text (what a person reads)."""
    from textual.widgets import Button, Label, Static

    parts = []
    for widget in pilot.app.screen.query("*"):
        if not widget.display:
            continue
        if isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Static | Label):
            parts.append(str(widget.render()))
    return "\n".join(parts)


async def sign_in(pilot: Pilot[ReturnT], username: str, purpose: str = "enroll", code: str | None = None) -> None:
    await settle(pilot)  # the first layout (and its breakpoint class) is in before the click aims
    await pilot.click(f"#{purpose}")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "SignInScreen"
    await fill(pilot, "#username", username, type_it=True)
    await fill(pilot, "#password", PASSWORD, submit=True)
    if code is not None:
        await fill(pilot, "#code", code, submit=True)


async def choose_method(pilot: Pilot[ReturnT], username: str, method: str) -> None:
    """Sign in for setup, open Security Settings > Set up a method, and choose `method`."""
    await sign_in(pilot, username)
    assert type(pilot.app.screen).__name__ == "TwoFactorSettingsScreen"
    await pilot.click("#setup")
    await settle(pilot)
    await pilot.click(f"#{method}")
    await settle(pilot)


async def to_npi_step(pilot: Pilot[ReturnT], username: str) -> None:
    await choose_method(pilot, username, "authenticator")
    assert type(pilot.app.screen).__name__ == "NpiVerificationScreen"
    await pilot.click("#read-file")  # the demo offers the provider's own image file
    await settle(pilot)


async def to_synchronize(pilot: Pilot[ReturnT], username: str = "dr.okafor", serial: str = "DEMO-0002") -> None:
    """Sign in, choose the Code Generator, add the token `serial`: step 7's two codes are asked."""
    await choose_method(pilot, username, "code_generator")
    await pilot.click("#add")
    await settle(pilot)
    await fill(pilot, "#serial", serial, submit=True)
    assert type(pilot.app.screen).__name__ == "SynchronizeScreen"
