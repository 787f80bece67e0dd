"""The kiosk's two looks. High contrast is built from the 16 ANSI colours only (bright white on
black, bright yellow for what has the focus), so it reads the same on a 16-colour console and
is never shaded into grey by a colour downgrade; NO_COLOR turns colour off in either (Textual
reads it), which is why focus is also shown by shape and text style (assets/kiosk.tcss)."""

from __future__ import annotations

from textual.theme import Theme

DEFAULT_THEME = "textual-dark"

HIGH_CONTRAST = Theme(
    name="kiosk-high-contrast",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_bright_cyan",
    warning="ansi_bright_yellow",
    error="ansi_bright_red",
    success="ansi_bright_green",
    accent="ansi_bright_yellow",
    foreground="ansi_bright_white",
    background="ansi_black",
    surface="ansi_black",
    panel="ansi_black",
    boost="ansi_black",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_bright_white",
        "text": "ansi_bright_white",
        "text-muted": "ansi_bright_white",
        "border": "ansi_bright_yellow",
        "border-blurred": "ansi_white",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_bright_yellow",
        "block-cursor-text-style": "bold",
        "input-cursor-background": "ansi_bright_white",
        "input-cursor-foreground": "ansi_black",
        "input-cursor-text-style": "none",
        "input-selection-background": "ansi_bright_yellow",
        "input-selection-foreground": "ansi_black",
        "footer-key-foreground": "ansi_bright_yellow",
        "footer-description-foreground": "ansi_bright_white",
        "button-focus-text-style": "bold reverse",
    },
)
