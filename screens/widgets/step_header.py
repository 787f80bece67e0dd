"""One line at the top: where in the article's steps we are, and who is signed in."""

from __future__ import annotations

from textual.widgets import Static

from screens.i18n import N_, _, f_

HELP = N_("F1 Help")


class StepHeader(Static):
    def __init__(self, step: tuple[int, str] | None, who: str | None = None, title: str = "") -> None:
        super().__init__()
        self.step = step
        self.who = who
        self.title_text = title

    def render(self) -> str:
        return header_line(self.step, self.who, self.title_text, max(self.size.width - 2, 0))


def header_line(step: tuple[int, str] | None, who: str | None, title: str, width: int) -> str:
    """`width` cells, always ending in "F1 Help" (the way to help must never be cut): the
    step's name gives way first (shortened with an ellipsis), then who is signed in."""
    left = f_("Step {number} of 8 · {name}", number=step[0], name=_(step[1])) if step else title
    help_key = _(HELP)
    right = f"{who}  ·  {help_key}" if who else help_key
    if who and len(right) + 1 + min(len(left), 20) > width:
        right = help_key  # a narrow screen: the step matters more than the name shown on it
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(room - 1, 0)].rstrip() + "…" if room > 1 else ""
    pad = max(width - len(left) - len(right), 1)
    return f"{left}{' ' * pad}{right}"
