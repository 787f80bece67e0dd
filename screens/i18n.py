"""The provider's language: English (the article's wording, the reference) or Spanish, from
gettext catalogs in assets/locale/<lang>/LC_MESSAGES/kiosk.mo (compiled from kiosk.po with
msgfmt; tests/ui/test_spanish.py checks the .mo is current). The IT staff area stays English.

One language at a time for the one person at the kiosk: chosen on the welcome screen, back to
the kiosk's configured one when the session is wiped."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[1] / "assets" / "locale"
DOMAIN = "kiosk"
LANGUAGES = {"en": "English", "es": "Español"}

_current = "en"


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def use(language: str) -> None:
    global _current
    _current = language if language in LANGUAGES else "en"


def current() -> str:
    return _current


def _(message: str) -> str:
    """`message` (the English reference) in the provider's language."""
    return _catalog(_current).gettext(message)


def N_(message: str) -> str:
    """Marks `message` for the catalog where it is defined; `_` translates it where it is shown."""
    return message
