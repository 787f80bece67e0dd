"""One line at the top: where in the article's steps we are, and who is signed in."""

from __future__ import annotations

from textual.widgets import Static


class StepHeader(Static):
    def __init__(self, step: tuple[int, str] | None, who: str | None = None, title: str = "") -> None:
        super().__init__()
        self.step = step
        self.who = who
        self.title_text = title

    def render(self) -> str:
        left = f"Step {self.step[0]} of 8 · {self.step[1]}" if self.step else self.title_text
        right = f"{self.who}  ·  F1 Help" if self.who else "F1 Help"
        width = max(self.size.width - 2, 0)
        pad = max(width - len(left) - len(right), 1)
        return f"{left}{' ' * pad}{right}"
