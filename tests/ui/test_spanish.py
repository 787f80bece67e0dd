"""Spanish for providers (issue 13): every marked message has its translation, the compiled
catalog is the one the .po gives, and the welcome and sign-in screens fit 80x24 in Spanish."""

from __future__ import annotations

import ast
import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from textual.containers import ScrollableContainer

from screens import i18n
from tests.ui.conftest import Kiosk, make_kiosk, screen_text, settle

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "assets" / "locale" / "es" / "LC_MESSAGES" / "kiosk.po"


def marked_messages() -> set[str]:
    """Every string literal given to `_` or `N_` in the screens."""
    found = set()
    for path in (ROOT / "screens").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def spanish() -> dict[str, str]:
    catalog = gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=["es"])
    return {k: v for k, v in catalog._catalog.items() if k}  # type: ignore[attr-defined]


def test_every_marked_message_has_a_spanish_translation() -> None:
    marked = marked_messages()
    es = spanish()
    assert len(marked) > 20
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


def assert_fits(pilot) -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    for page in screen.query(ScrollableContainer):
        assert page.max_scroll_y == 0 and page.max_scroll_x == 0, f"{type(screen).__name__} overflows 80x24"
    for widget in screen.query("*"):
        if widget.display and widget.region.area:
            assert screen.region.contains_region(widget.region), f"{widget} runs off the screen"


async def test_welcome_and_sign_in_in_spanish_fit_80x24(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=(80, 24)) as pilot:
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

    async with kiosk.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#language")
        await settle(pilot)
        kiosk.app.end_session(Ending.TIMEOUT)
        await settle(pilot)
        assert "Two-factor authentication for iPrescribe" in screen_text(pilot)


async def test_the_language_defaults_from_config(demo_template, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    k = make_kiosk(demo_template, tmp_path, clock, language="es")
    try:
        async with k.app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "Autenticación de dos factores para iPrescribe" in screen_text(pilot)
            assert str(pilot.app.screen.query_one("#language").label) == "English"
    finally:
        k.services.close()
        i18n.use("en")
