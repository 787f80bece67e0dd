"""A domain call replaced by a newer one on the same screen (a second Filter press while the first
is still reading the audit) never reports: its worker is cancelled, but a thread cannot be
stopped, and its late answer overwrote the newer one's (screens/base.py `run_domain`)."""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult
from textual.widgets import Static

from screens.base import KioskScreen
from screens.session import KioskSession
from tests.ui.conftest import settle


class Probe(KioskScreen):
    def __init__(self) -> None:
        super().__init__(KioskSession())
        self.shown: list[str] = []

    def body(self) -> ComposeResult:
        yield Static("", id="error")

    def ask(self, answer: str, release: threading.Event | None = None, answered: threading.Event | None = None) -> None:
        def call() -> str:
            if release is not None:
                release.wait(10)
            if answered is not None:
                answered.set()
            return answer

        self.run_domain(call, self.shown.append, lambda exc: self.shown.append(f"failed: {exc}"))


class ProbeApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(Probe())


async def test_an_answer_replaced_by_a_newer_call_is_dropped() -> None:
    app = ProbeApp()
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, Probe)
        release, answered = threading.Event(), threading.Event()
        screen.ask("old filter", release, answered)
        await pilot.pause()
        screen.ask("new filter")
        await settle(pilot)
        assert screen.shown == ["new filter"]
        release.set()  # the first call's thread now finishes and reports
        assert answered.wait(10)
        for _ in range(10):
            await pilot.pause(0.02)
        assert screen.shown == ["new filter"]
