"""A field whose Enter moves on to the next field at once.

Keys typed in a burst (a fast typist, a password manager, a keyboard-wedge reader sending
"user<Tab>password<Enter>") all reach the App before any is handled. A key the App does not
take itself goes to whichever widget has the focus at that moment, and an Input's Enter (its
Submitted message, then the form's handler, then `focus()`, itself deferred) moves the focus
only after the rest of the burst has gone to the old field: the password was typed, in clear,
into the username field. A priority binding runs as the App reads the key, and `set_focus`
moves the focus there and then, so the next key already goes to the next field. (The App's Tab
and Shift+Tab are priority bindings for the same reason: kiosk.app.)"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class LeadingInput(Input):
    """An Input that, on Enter, hands the focus on instead of submitting: to the field `leads_to`
    names (a selector among its parent's children), or with None to the next in Tab order."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "lead_on", show=False, priority=True)]

    def __init__(
        self,
        *,
        id: str,
        placeholder: str,
        leads_to: str | None = None,
        max_length: int = 0,
        restrict: str | None = None,
        password: bool = False,
    ) -> None:
        super().__init__(id=id, placeholder=placeholder, max_length=max_length, restrict=restrict, password=password)
        self.leads_to = leads_to

    def action_lead_on(self) -> None:
        if self.leads_to is None:
            self.screen.focus_next()
            return
        assert self.parent is not None
        for field in self.parent.query(self.leads_to):  # the first one shown
            if field.display and field.focusable:
                self.screen.set_focus(field)
                return
