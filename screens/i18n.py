"""The provider's language: English (the article's wording, the reference) or Spanish, from
gettext catalogs in assets/locale/<lang>/LC_MESSAGES/kiosk.mo (compiled from kiosk.po with
msgfmt; tests/ui/test_spanish.py checks the .mo is current). The IT staff area stays English.

One language at a time for the one person at the kiosk: chosen on the welcome screen, back to
the kiosk's configured one when the session is wiped."""

from __future__ import annotations

import gettext
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from core.errors import fill

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.binding import Binding
    from textual.dom import DOMNode

    from core.errors import KioskError

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


def f_(template: str, /, **params: object) -> str:
    """`template` (an English message with `{name}` fields) translated, then filled."""
    return _(template).format_map(params)


def error_text(exc: KioskError) -> tuple[str, str]:
    """A core refusal's message and hint in the provider's language. Core keeps its messages in
    English and marks them (core.errors.N_); a parameter that is itself a marked message (a
    refusal's detail) is translated too, a serial number or digit count is left as it is."""
    message = fill(exc.template, exc.params, _) if exc.params else _(exc.message)
    return message, _(exc.hint) if exc.hint else ""


def outcome_text(template: str, params: Mapping[str, str]) -> str:
    """A directory's or camera's English message (a `template` and its `params`, filled the
    same way as a core refusal) in the provider's language."""
    return fill(template, params, _) if params else _(template)


# Each node's bindings as declared (English): translating always starts from these, so a node
# that lives across sessions (the App) can go to Spanish and back.
_DECLARED: WeakKeyDictionary[DOMNode, dict[str, list[Binding]]] = WeakKeyDictionary()


def translate_bindings(node: DOMNode) -> None:
    """The footer's key descriptions of `node` (a screen built for this session, or the App) in
    the provider's language. Textual copies a class's bindings per node, sharing the lists: give
    the node lists of its own."""
    declared = _DECLARED.setdefault(node, dict(node._bindings.key_to_bindings))
    node._bindings.key_to_bindings = {
        key: [replace(b, description=_(b.description)) if b.description else b for b in bindings]
        for key, bindings in declared.items()
    }
