"""The first screen: what this kiosk is for, and the three ways in."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from screens.base import KioskScreen
from screens.messages import Purpose, Start


class WelcomeScreen(KioskScreen):
    def body(self) -> ComposeResult:
        with Vertical(classes="page"):
            if self.session.demo:
                yield Static(
                    "DEMO KIOSK - offline demo data, not for real providers. " + self.session.keyring_note,
                    classes="demo-banner",
                )
            yield Static("Two-factor authentication for iPrescribe", classes="title")
            yield Static(
                "Set up iPrescribe Authenticator or a Code Generator (hardware token) for "
                "e-prescribing. Setup takes approximately 5-10 minutes.\n\n"
                "You will need: your iPrescribe username and password, your enrollment image "
                "(cronto image), and your hardware token if you use one.",
                classes="lead",
            )
            with Horizontal(classes="buttons"):
                yield Button("Set up two-factor authentication", id="enroll", variant="primary")
                yield Button("Sign in with your token", id="token")
            with Horizontal(classes="buttons"):
                yield Button("IT staff", id="it")
            yield Static(
                "This is a shared kiosk: your session ends after 2 minutes without input and "
                "nothing of yours stays on screen. Press F1 at any time for help.",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#enroll", Button).focus()

    @on(Button.Pressed)
    def start(self, event: Button.Pressed) -> None:
        if event.button.id in tuple(Purpose):
            self.post_message(Start(Purpose(event.button.id)))
