"""Spanish for providers (issue 13): every marked message (screens, and core's provider-facing
refusals) has its translation, the compiled catalog is the one the .po gives, and every provider
screen fits 80x24 in Spanish and in English, nothing scrolled and no text cut."""

from __future__ import annotations

import ast
import gettext
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import cast

import pytest
from rich.cells import cell_len
from textual.containers import ScrollableContainer
from textual.pilot import Pilot
from textual.widgets import Button, Label, Static

from core.clock import ManualClock
from screens import i18n
from screens.widgets.step_header import StepHeader
from tests.ui.conftest import Kiosk, ReturnT, make_kiosk, screen_text, settle
from tests.ui.test_snapshots import journeys

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "assets" / "locale" / "es" / "LC_MESSAGES" / "kiosk.po"


# Where a marked literal is a message a provider may read: `_`, `N_` and `f_` in the screens,
# and core's `N_` (core.errors.N_), which marks the refusals and hints core raises towards them.
MARKERS = {"screens": ("_", "N_", "f_"), "core": ("N_",), "kiosk": ("_", "N_", "f_")}


def marked_messages() -> set[str]:
    """Every string literal given to a marker, in the screens and in core."""
    found = set()
    for tree, markers in MARKERS.items():
        for path in (ROOT / tree).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in markers
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
    return found


def spanish() -> dict[str, str]:
    catalog = gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=["es"])
    entries: dict[str, str] = catalog._catalog  # type: ignore[attr-defined]
    return {k: v for k, v in entries.items() if k}


def test_a_template_keeps_its_fields_in_spanish() -> None:
    """A translation that drops or renames a `{field}` would raise, or lose a serial number,
    on the screen that fills it."""
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = sorted(m for m, t in spanish().items() if fields(m) != fields(t))
    assert not wrong, f"fields differ in: {wrong}"


def test_a_core_refusal_reads_in_spanish() -> None:
    """Core raises in English; the screen shows the template translated and filled."""
    from core.errors import SyncFailed

    exc = SyncFailed(
        "The Current Code must be the {digits} digits shown on the token.", "current", params={"digits": 6}
    )
    assert exc.message == "The Current Code must be the 6 digits shown on the token."
    i18n.use("es")
    try:
        message, hint = i18n.error_text(exc)
    finally:
        i18n.use("en")
    assert message == "El Código actual deben ser los 6 dígitos que muestra el token."
    assert hint.startswith("Pulse el botón")


def test_every_marked_message_has_a_spanish_translation() -> None:
    marked = marked_messages()
    es = spanish()
    assert len(marked) > 200
    missing = sorted(m for m in marked if not es.get(m))
    assert not missing, f"no Spanish for: {missing}"
    # The demo's keyring note comes from the App, not from a literal in the screens.
    stale = sorted(set(es) - marked - {"Keys are in a demo-only keyring file inside the demo folder."})
    assert not stale, f"translated but no longer on any screen: {stale}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")
def test_the_compiled_catalog_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "kiosk.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(PO)], check=True)
    assert fresh.read_bytes() == PO.with_suffix(".mo").read_bytes(), "run msgfmt on kiosk.po (see its header)"


def at_80x24(k: Kiosk) -> AbstractAsyncContextManager[Pilot[object]]:
    """The kiosk run at the smallest terminal it may have, its pilot typed as the helpers take it."""
    return cast("AbstractAsyncContextManager[Pilot[object]]", k.app.run_test(size=(80, 24)))


def assert_fits(pilot: Pilot[object]) -> None:
    """Nothing scrolls, nothing runs off the screen, and no text is cut: each text widget has
    the lines its words need at its width, each button its whole label."""
    screen = pilot.app.screen
    name = type(screen).__name__
    for page in screen.query(ScrollableContainer).exclude("Input"):  # a field scrolls its own text
        if not page.display:
            continue  # not shown (the NPI screen's regions before a check): nothing to scroll
        # Help is a document read by scrolling (its own frame, Escape closes it); only its lines
        # must not run off to the right.
        scrolls_down = name == "HelpScreen" and page.id == "help-body"
        assert (page.max_scroll_y == 0 or scrolls_down) and page.max_scroll_x == 0, (
            f"{name}: {page} scrolls ({page.max_scroll_x}, {page.max_scroll_y}) at {screen.size}"
        )
    for widget in screen.query("*"):
        if not widget.display or not widget.region.area or isinstance(widget, StepHeader):
            continue  # the header shortens the step's name by design, never "F1 Help"
        if name == "HelpScreen" and widget.id != "help-body":
            continue  # the document scrolls inside its frame
        assert screen.region.contains_region(widget.region), f"{widget} runs off the screen"
        box = widget.content_region
        if isinstance(widget, Button):
            assert cell_len(str(widget.label)) <= box.width, f"{name}: button {widget.label!s} is cut"
        elif isinstance(widget, Static | Label):
            needed = widget.get_content_height(box.size, screen.size, box.width)
            assert needed <= box.height, f"{name}: {str(widget.render())[:60]!r} is cut ({needed} > {box.height} lines)"


async def test_welcome_and_sign_in_in_spanish_fit_80x24(kiosk: Kiosk) -> None:
    async with at_80x24(kiosk) as pilot:
        await settle(pilot)
        assert_fits(pilot)
        await pilot.click("#language")
        await settle(pilot)
        assert "Autenticación de dos factores para iPrescribe" in screen_text(pilot)
        assert "F1 Ayuda" in str(pilot.app.screen.query_one("StepHeader").render())
        assert_fits(pilot)
        await pilot.click("#enroll")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Inicie sesión en iPrescribe" in text and "Contraseña" in text
        assert_fits(pilot)
        await pilot.click("#cancel")  # ends the session: the welcome screen in the kiosk's language
        await settle(pilot)
        assert "Two-factor authentication for iPrescribe" in screen_text(pilot)


async def test_english_again_for_the_next_person(kiosk: Kiosk) -> None:
    from screens.messages import Ending

    async with at_80x24(kiosk) as pilot:
        await settle(pilot)
        await pilot.click("#language")
        await settle(pilot)
        kiosk.app.end_session(Ending.TIMEOUT)
        await settle(pilot)
        assert "Two-factor authentication for iPrescribe" in screen_text(pilot)


def footer_keys(pilot: Pilot[ReturnT]) -> set[str]:
    """The key descriptions the footer shows on the current screen (the App's F2 included)."""
    return {b.binding.description for b in pilot.app.screen.active_bindings.values() if b.binding.show}


async def test_the_apps_own_keys_follow_the_language(kiosk: Kiosk) -> None:
    from screens.messages import Ending

    async with at_80x24(kiosk) as pilot:
        await settle(pilot)
        assert {"Help", "Contrast"} <= footer_keys(pilot)
        await pilot.click("#language")
        await settle(pilot)
        assert {"Ayuda", "Contraste"} <= footer_keys(pilot)
        kiosk.app.end_session(Ending.TIMEOUT)  # the next person: the kiosk's language again
        await settle(pilot)
        assert {"Help", "Contrast"} <= footer_keys(pilot)


async def test_the_language_defaults_from_config(demo_template, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    k = make_kiosk(demo_template, tmp_path, clock, language="es")
    try:
        async with at_80x24(k) as pilot:
            await settle(pilot)
            assert "Autenticación de dos factores para iPrescribe" in screen_text(pilot)
            assert str(pilot.app.screen.query_one("#language", Button).label) == "English"
    finally:
        k.services.close()
        i18n.use("en")


# Every provider screen, both paths (app binding and hardware token) and the screens off them;
# the names are test_snapshots.py's journeys, plus the states only this test walks.
PROVIDER_SCREENS = [
    "welcome",
    "sign_in",
    "sign_in_code",
    "two_factor_settings",
    "select_method",
    "npi_not_found",
    "npi_verified",
    "npi_other_user",
    "authenticator_binding",
    "binding_stopped",
    "code_generator",
    "serial_number",
    "serial_number_demo_token",
    "synchronize",
    "synchronize_demo_token",
    "synchronize_failed",
    "confirm",
    "test_sign_in",
    "test_sign_in_refused",
    "setup_complete",
    "token_signed_in",
    "failure_stale_sign_in",
    "help",
]


def walks(k: Kiosk) -> dict[str, object]:
    steps = journeys(k)

    async def npi_verified(pilot):  # type: ignore[no-untyped-def]
        from tests.ui.conftest import to_npi_step

        await to_npi_step(pilot, "dr.rivera")

    async def serial_demo_token(pilot):  # type: ignore[no-untyped-def]
        await steps["serial_number"](pilot)
        await pilot.press("f3")
        await settle(pilot)

    async def sync_demo_token(pilot):  # type: ignore[no-untyped-def]
        await steps["synchronize"](pilot)
        await pilot.press("f3")
        await settle(pilot)

    async def test_sign_in_refused(pilot):  # type: ignore[no-untyped-def]
        from tests.ui.conftest import fill

        await steps["test_sign_in"](pilot)
        await fill(pilot, "#password", "demo-password")
        await fill(pilot, "#code", "000000", submit=True)

    return steps | {
        "npi_verified": npi_verified,
        "serial_number_demo_token": serial_demo_token,
        "synchronize_demo_token": sync_demo_token,
        "test_sign_in_refused": test_sign_in_refused,
    }


@pytest.fixture(params=["es", "en"])
def language_kiosk(request, demo_template: Path, tmp_path: Path, clock: ManualClock) -> Iterator[Kiosk]:  # type: ignore[no-untyped-def]
    k = make_kiosk(demo_template, tmp_path, clock, language=request.param)
    try:
        yield k
    finally:
        k.services.close()
        i18n.use("en")


@pytest.mark.parametrize("name", PROVIDER_SCREENS)
async def test_every_provider_screen_fits_80x24(name: str, language_kiosk: Kiosk) -> None:
    async with at_80x24(language_kiosk) as pilot:
        await walks(language_kiosk)[name](pilot)  # type: ignore[operator]
        await settle(pilot)
        assert_fits(pilot)
        if i18n.current() == "es" and name != "help":
            # Spanish on the screen: the footer's F1 key too, not the English reference.
            assert "Ayuda" in str(pilot.app.screen.query_one(StepHeader).render())
