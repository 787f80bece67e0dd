"""The demo token's display on the kiosk's own screen (F3 on the token steps), so a laptop demo
needs one terminal: what `ipkiosk token-sim` shows in a second one.

Demo data only, by the rule token-sim follows (kiosk/cli/token_sim.py): the App offers it only
when `demo = true` and the keyring is the demo-only file (KioskSession.demo_tokens), since a
real kiosk's seeds are sealed with the system keyring and nobody may read a code off them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.widgets import Static

from core.tokens import TokenInventory
from screens.i18n import _, f_

TICK_SECONDS = 0.5


@dataclass(frozen=True)
class Display:
    serial: str
    kind: str
    code: str
    seconds_left: float


class DemoTokenPanel(Static):
    """Hidden until shown; then redrawn every half second from the store's clock."""

    DEFAULT_CSS = """
    DemoTokenPanel {
        height: auto;
        display: none;
        border: round $warning;
        padding: 0 1;
    }
    DemoTokenPanel.-shown { display: block; }
    """

    def __init__(self, tokens: TokenInventory) -> None:
        super().__init__("", id="demo-token")
        self.tokens = tokens
        self.serial: str | None = None
        self.press: int | None = None  # an HOTP token's counter: moved by F4, as its button

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self.refresh_display)

    def toggle(self, serial: str | None) -> None:
        self.set_class(not self.shown, "-shown")
        if self.shown:
            self.follow(serial)

    def follow(self, serial: str | None) -> None:
        """Show the token `serial` (the one the provider typed or is binding)."""
        if serial != self.serial:
            self.serial, self.press = serial, None
        self.refresh_display()

    def press_button(self) -> None:
        if self.press is not None:
            self.press += 1
            self.refresh_display()

    def refresh_display(self) -> None:
        if self.shown:
            self._read(self.serial, self.press)

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo-token")
    def _read(self, serial: str | None, press: int | None) -> None:
        info = self.tokens.get(serial.strip()) if serial and serial.strip() else None
        if info is None:
            free = [t.serial for t in self.tokens.list(limit=12) if t.owner is None]
            self.app.call_from_thread(self._offer, free)
            return
        if info.params.kind == "hotp" and press is None:
            press = info.last_used + 1
        code, left = self.tokens.code_now(info.serial, press=press)
        self.app.call_from_thread(self._show, Display(info.serial, info.params.kind, code, left), press)

    def _offer(self, free: list[str]) -> None:
        self.update(
            f_("Demo token: type one of these serial numbers: {serials}", serials=", ".join(free) or _("none left"))
        )

    def _show(self, display: Display, press: int | None) -> None:
        if display.serial != (self.serial or "").strip():
            return  # the serial changed while this was read
        self.press = press
        spaced = f"{display.code[: len(display.code) // 2]} {display.code[len(display.code) // 2 :]}"
        after = (
            f_("changes in {seconds} s", seconds=int(display.seconds_left))
            if display.kind == "totp"
            else _("F4 presses its button")
        )
        self.update(
            f_("Demo token {serial}:  {code}   {after}   (F3 hides)", serial=display.serial, code=spaced, after=after)
        )
