"""Step 4: automatic redirect. IP-Auth-Stop-Binding-2.0 stopped app binding; say why and move on
to the Code Generator (on Enter, or by itself after a few seconds)."""

from __future__ import annotations

import math
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from core.enrollment import Step
from screens.enrollment.base import StepScreen
from screens.i18n import N_, _, f_
from screens.session import KioskSession

AUTO_CONTINUE_SECONDS = 10

REASONS = {
    "not_found": N_("Your NPI was not found in the DrWeb system (regions 1-5)."),
    "deactivated": N_("Your NPI is deactivated in the NPI registry, so it cannot be verified in regions 1-5."),
    "unavailable": N_(
        "A regional directory did not answer, so your NPI could not be verified in regions 1-5 right now. "
        "You can try the verification again, or continue with a Code Generator."
    ),
}


class BindingStoppedScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "continue", N_("Continue"), show=False)]

    def __init__(self, session: KioskSession, auto_continue: float = AUTO_CONTINUE_SECONDS) -> None:
        super().__init__(session)
        self.auto_continue = auto_continue
        self.deadline = 0.0  # on the kiosk's clock, set once shown
        self.outcome = str(self.enrollment.npi_outcome or "not_found")

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("iPrescribe Authenticator cannot be bound to your device"), classes="title")
            yield Static(_(REASONS.get(self.outcome, REASONS["not_found"])), classes="notice")
            yield Static(
                _(
                    "This is the IP-Auth-Stop-Binding-2.0 feature working as intended: a security "
                    "requirement, not an error. Providers whose NPI cannot be verified use the Code "
                    "Generator (hardware token) instead. No additional action is required on your part."
                ),
                classes="lead",
            )
            yield Static(
                _("Contact your administrator only if you believe there is an error with your NPI status."),
                classes="hint",
            )
            yield Static("", id="countdown-text")
            with Horizontal(classes="buttons"):
                yield Button(_("Continue to Code Generator"), id="continue", variant="primary")
                if self.outcome == "unavailable":
                    yield Button(_("Try verification again"), id="retry")

    def on_mount(self) -> None:
        self.query_one("#continue", Button).focus()
        if self.outcome != "unavailable" and self.auto_continue > 0:
            # Counted on the kiosk's clock, not in timer ticks: a busy kiosk that runs a tick late
            # still moves on on time, and the count shown is the time left.
            self.deadline = self.session.system.clock.time() + self.auto_continue
            self._tick()
            self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        left = math.ceil(self.deadline - self.session.system.clock.time())
        if left <= 0:
            self.action_continue()
            return
        self.query_one("#countdown-text", Static).update(
            f_("You will be directed to Code Generator setup in {seconds} s.", seconds=left)
        )

    @on(Button.Pressed, "#continue")
    def action_continue(self) -> None:
        if self.enrollment.state is Step.REDIRECTED:
            self.enrollment.acknowledge_redirect()
            self.step_done()

    @on(Button.Pressed, "#retry")
    def retry(self) -> None:
        self.enrollment.retry_verification()
        self.step_done()
