"""Step 5: Code Generator setup: Add New Device."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.enrollment.base import StepScreen
from screens.i18n import _


class CodeGeneratorScreen(StepScreen):
    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("Code Generator setup"), classes="title")
            yield Static(
                _(
                    "A Code Generator (hardware token) generates a unique security code each time you "
                    "press its button. You will need it every time you sign in to iPrescribe."
                ),
                classes="lead",
            )
            yield Static(
                _("Have your hardware token with you. Keep it in a safe, accessible place."),
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Add New Device"), id="add", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#add", Button).focus()

    @on(Button.Pressed, "#add")
    def add_device(self) -> None:
        self.enrollment.add_new_device()
        self.step_done()
