"""What every step screen of the provider's setup shares: the article's step in the header,
finishing a step, and Escape back to where nothing was written yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer

from screens.base import KioskScreen
from screens.i18n import N_
from screens.messages import StepDone
from screens.widgets.demo_token import DemoTokenPanel

if TYPE_CHECKING:
    from core.enrollment import Enrollment


class StepScreen(KioskScreen):
    """A screen for one enrollment step: the header shows the article's step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f3", "demo_token", N_("Demo token")),
        Binding("f4", "press_demo_token", N_("Press token button")),
    ]
    # A step where the provider reads codes off a hardware token: on demo data only, F3 shows the
    # demo token's display there (screens/widgets/demo_token.py).
    TOKEN_STEP: ClassVar[bool] = False

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, Footer) and self.TOKEN_STEP and self.session.demo_tokens:
                yield DemoTokenPanel(self.session.system.tokens)  # below the page, above the keys
            yield widget

    def demo_token_serial(self) -> str | None:
        """The token whose display F3 shows: the one being bound."""
        return self.session.enrollment.serial if self.session.enrollment else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo_token":
            return bool(self.query(DemoTokenPanel)) and self.demo_token_serial() is not None
        if action == "press_demo_token":
            panels = self.query(DemoTokenPanel)
            return bool(panels) and panels.first().shown and panels.first().press is not None
        return True

    def action_demo_token(self) -> None:
        for panel in self.query(DemoTokenPanel):
            panel.toggle(self.demo_token_serial())
        self.refresh_bindings()

    def action_press_demo_token(self) -> None:
        for panel in self.query(DemoTokenPanel):
            panel.press_button()

    @property
    def enrollment(self) -> Enrollment:
        return self.session.current_enrollment

    def header_step(self) -> tuple[int, str] | None:
        return self.enrollment.article_step if self.session.enrollment else None

    def step_done(self) -> None:
        self.post_message(StepDone())

    def action_back(self) -> None:
        from core.enrollment import BACK

        if self.session.enrollment is not None and self.enrollment.state in BACK:
            self.enrollment.back()
            self.step_done()
