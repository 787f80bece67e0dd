"""What every step screen of the provider's setup shares: the article's step in the header,
finishing a step, and Escape back to where nothing was written yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from screens.base import KioskScreen
from screens.messages import StepDone

if TYPE_CHECKING:
    from core.enrollment import Enrollment


class StepScreen(KioskScreen):
    """A screen for one enrollment step: the header shows the article's step."""

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
