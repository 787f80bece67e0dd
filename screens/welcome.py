"""The first screen: what this kiosk is for, and the three ways in."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from screens import i18n
from screens.base import KioskScreen
from screens.i18n import _
from screens.messages import Purpose, Start


class WelcomeScreen(KioskScreen):
    def body(self) -> ComposeResult:
        with Vertical(classes="page"):
            if self.session.demo:
                yield Static(
                    _("DEMO KIOSK - offline demo data, not for real providers.")
                    + (" " + _(self.session.keyring_note) if self.session.keyring_note else ""),
                    classes="demo-banner",
                )
                if self.session.demo_outbox:
                    # The folder's full path is printed in the terminal before the kiosk starts.
                    yield Static(
                        _("Binding notifications are written as .eml files to the outbox folder of the demo data."),
                        classes="demo-banner",
                    )
            yield Static(_("Two-factor authentication for iPrescribe"), classes="title")
            yield Static(
                _(
                    "Set up iPrescribe Authenticator or a Code Generator (hardware token) for "
                    "e-prescribing. Setup takes approximately 5-10 minutes."
                )
                + "\n\n"
                + _(
                    "You will need: your iPrescribe username and password, your enrollment image "
                    "(cronto image), and your hardware token if you use one."
                ),
                classes="lead",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Set up two-factor authentication"), id="enroll", variant="primary")
                yield Button(_("Sign in with your token"), id="token")
            with Horizontal(classes="buttons"):
                yield Button(_("IT staff"), id="it")
                other = "es" if i18n.current() == "en" else "en"
                yield Button(i18n.LANGUAGES[other], id="language")  # each language in its own words
            yield Static(
                _(
                    "This is a shared kiosk: your session ends after 2 minutes without input and "
                    "nothing of yours stays on screen. Press F1 at any time for help."
                ),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#enroll", Button).focus()

    @on(Button.Pressed, "#language")
    async def switch_language(self) -> None:
        i18n.use("es" if i18n.current() == "en" else "en")
        # The footer's keys (this screen's and the App's F2) follow, not only the words.
        i18n.translate_bindings(self)
        i18n.translate_bindings(self.app)
        self.app.refresh_bindings()
        await self.recompose()
        self.query_one("#language", Button).focus()

    @on(Button.Pressed)
    def start(self, event: Button.Pressed) -> None:
        if event.button.id in tuple(Purpose):
            self.post_message(Start(Purpose(event.button.id)))
