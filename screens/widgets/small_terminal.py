"""What the kiosk shows over a screen while the terminal is smaller than the screens are laid
out for (80x24): a person at the front desk, or IT staff, reads why the screen is gone and what
to do, instead of a button cut to "Sign in with your t".

The notice covers the screen in a layer of its own (SCREEN_LAYERS) and leaves it as it was
under it: the screen, what was typed in it and the focus are there again once the terminal is
large enough. The App keeps the screen's input from it meanwhile (KioskApp.on_event)."""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Static

from screens.i18n import _, f_

# The smallest terminal every screen is laid out and tested for (tests/ui/conftest.py SIZES).
MINIMUM = Size(80, 24)
LAYER = "small-terminal"
# Below the toasts (Textual adds its own layers above the screen's), so the idle warning still
# shows over the notice.
SCREEN_LAYERS = f"Screen {{ layers: default {LAYER}; }}"


def too_small(size: Size) -> bool:
    return size.width < MINIMUM.width or size.height < MINIMUM.height


class SmallTerminalNotice(Static):
    """Docked, so a screen scrolled under it does not move it."""

    DEFAULT_CSS = f"""
    SmallTerminalNotice {{
        layer: {LAYER};
        dock: top;
        width: 100%;
        height: 100%;
        padding: 1 2;
        background: $background;
        color: $text;
        content-align: center middle;
        text-align: center;
    }}
    """

    def __init__(self, size: Size) -> None:
        super().__init__(notice_text(size))

    def show_size(self, size: Size) -> None:
        self.update(notice_text(size))


def notice_text(size: Size) -> str:
    return "\n\n".join(
        (
            _("This window is too small for the kiosk."),
            f_(
                "It is {width}x{height}; the kiosk needs at least {needed_width}x{needed_height}.",
                width=size.width,
                height=size.height,
                needed_width=MINIMUM.width,
                needed_height=MINIMUM.height,
            ),
            _(
                "Make the window larger, or ask IT staff. The kiosk then comes back where it was; "
                "until then, keys do nothing."
            ),
        )
    )
