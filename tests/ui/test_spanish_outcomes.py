"""Spanish for what the NPI screen learns at run time (issue 13): the directory's outcome and
each region's answer, the camera's failures, and the kiosk's idle notices. Each screen is shown
in Spanish with no English left, and still fits 80x24."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from textual.widgets import DataTable

from core.clock import ManualClock
from core.errors import TokenUnavailable, fill
from core.schema import accounts
from screens import i18n
from tests.ui.conftest import Kiosk, make_kiosk, screen_text, settle, to_npi_step
from tests.ui.test_spanish import assert_fits, at_80x24


@pytest.fixture
def spanish_kiosk(demo_template: Path, tmp_path: Path, clock: ManualClock) -> Iterator[Kiosk]:
    k = make_kiosk(demo_template, tmp_path, clock, language="es")
    try:
        yield k
    finally:
        k.services.close()
        i18n.use("en")


async def npi_screen_says(k: Kiosk, username: str, spanish: str, english: str) -> str:
    """What the NPI screen shows, its regions' answers included, once it has `username`'s outcome."""
    async with at_80x24(k) as pilot:
        await to_npi_step(pilot, username)
        await settle(pilot)
        table = pilot.app.screen.query_one("#regions", DataTable)
        rows = [" | ".join(str(cell) for cell in table.get_row(key)) for key in table.rows]
        text = "\n".join([screen_text(pilot), *rows])
        assert spanish in text, text
        assert english not in text, text
        assert_fits(pilot)
        return text


async def test_a_verified_npi_in_spanish(spanish_kiosk: Kiosk) -> None:
    await npi_screen_says(spanish_kiosk, "dr.rivera", "está verificado (región 1)", "is verified")


async def test_a_deactivated_npi_in_spanish_with_its_day(spanish_kiosk: Kiosk) -> None:
    text = await npi_screen_says(spanish_kiosk, "dr.chen", "fue desactivado el 01 de marzo de 2024", "deactivated")
    assert "Desactivado el 2024-03-01." in text  # the region's answer, in the table
    assert "March" not in text


async def test_a_name_mismatch_in_spanish(spanish_kiosk: Kiosk) -> None:
    with spanish_kiosk.services.store.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.username == "dr.rivera").values(display_name="Rivers, Ana"))
    await npi_screen_says(spanish_kiosk, "dr.rivera", "no coincide con el de su cuenta", "does not match")


@pytest.fixture
def silent_region() -> Iterator[str]:
    """A loopback server that takes connections and never answers (a hung regional directory)."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


async def test_a_region_timeout_in_spanish(
    demo_template: Path, tmp_path: Path, clock: ManualClock, silent_region: str
) -> None:
    k = make_kiosk(
        demo_template, tmp_path, clock, language="es", region_timeout=0.3, regions={4: {"url": silent_region}}
    )
    try:
        # dr.okafor is in no region: with region 4 silent, the answer is "unavailable".
        # At 80x24 the region's own detail is cut with an ellipsis (Spanish takes more room);
        # the whole reason is in the outcome under the table.
        text = await npi_screen_says(k, "dr.okafor", "La región", "did not answer")
        assert "No se pudo contactar con el directorio de proveedores de la región 4" in text
        assert "could not be reached" not in text
    finally:
        k.services.close()
        i18n.use("en")


async def test_a_camera_failure_in_spanish(demo_template: Path, tmp_path: Path, clock: ManualClock) -> None:
    k = make_kiosk(demo_template, tmp_path, clock, language="es", camera="/nonexistent/clip.mp4")
    try:
        async with at_80x24(k) as pilot:
            from tests.ui.conftest import choose_method

            await choose_method(pilot, "dr.rivera", "authenticator")
            for _ in range(50):  # the scan fails on its own thread
                await settle(pilot)
                if "No existe el archivo" in screen_text(pilot):
                    break
            text = screen_text(pilot)
            assert "No existe el archivo" in text and "Escanee de nuevo" in text, text
            assert "There is no file" not in text
            assert_fits(pilot)
    finally:
        k.services.close()
        i18n.use("en")


async def test_the_idle_notices_in_the_providers_language_then_the_kiosks(spanish_kiosk: Kiosk) -> None:
    from tests.ui.conftest import sign_in

    i18n.use("en")
    spanish_kiosk.app.settings.language = "en"  # the kiosk's language; the provider picks Spanish
    async with at_80x24(spanish_kiosk) as pilot:
        await settle(pilot)
        await pilot.click("#language")
        await settle(pilot)
        await sign_in(pilot, "dr.rivera")
        app = spanish_kiosk.app
        app._last_input = time.monotonic() - (app.idle_timeout - app.idle_warning + 1)
        app._check_idle()
        await settle(pilot)  # a notification is a message to the App
        warning = [str(n.message) for n in app._notifications]
        assert any(m.startswith("¿Sigue ahí? Esta sesión termina en") for m in warning), warning
        assert any(n.title == "Quiosco compartido" for n in app._notifications)
        app._last_input = time.monotonic() - app.idle_timeout - 1
        app._check_idle()
        await settle(pilot)
        ended = [str(n.message) for n in app._notifications]
        # The next person reads the kiosk's language.
        assert ended == ["Your session ended after a period without input."], ended


def test_a_revoked_tokens_reason_and_a_claims_name_in_spanish() -> None:
    from core.cronto import refuse
    from core.token_records import revoked_word

    revoked = TokenUnavailable(
        "Token {serial} was reported {reason}.", params={"serial": "DEMO-0001", "reason": revoked_word("lost")}
    )
    late = refuse("not_our_format", "the time claim {name} is not a whole number", name="iat")
    # English as before, for the command line and the audit.
    assert revoked.message == "Token DEMO-0001 was reported lost."
    assert late.message == "This is not an iPrescribe enrollment image. (the time claim iat is not a whole number)"
    i18n.use("es")
    try:
        assert i18n.error_text(revoked)[0] == "El token DEMO-0001 se notificó como perdido."
        assert i18n.error_text(late)[0] == (
            "Esta no es una imagen de inscripción de iPrescribe. (la marca de tiempo iat no es un número entero)"
        )
    finally:
        i18n.use("en")
    assert revoked_word("misplaced") == "revoked"  # a reason the kiosk no longer knows


def test_a_typed_value_is_never_used_as_a_format() -> None:
    """A serial or name someone typed stays as typed, even when it looks like a template."""
    for typed in ("{serial:>99999999}", "{0}", "{serial.__class__}", "{", "{serial!r}"):
        assert fill("No token {serial} here.", {"serial": typed}) == f"No token {typed} here."
    assert fill("{message} ({detail})", {"message": "m", "detail": "d {name}", "name": "iat"}) == "m (d iat)"


def test_the_camera_is_named_in_the_providers_language() -> None:
    from kiosk.scan_service import ScanService
    from screens.enrollment.npi_verification import NpiVerificationScreen

    try:
        i18n.use("es")
        assert NpiVerificationScreen._scanning_with(ScanService("7", 1.0)) == "Escaneando con la cámara 7..."
        clip = NpiVerificationScreen._scanning_with(ScanService("/media/clip.mp4", 1.0))
        assert clip == "Escaneando con /media/clip.mp4..."
    finally:
        i18n.use("en")
    assert NpiVerificationScreen._scanning_with(ScanService("0", 1.0)) == "Scanning with camera 0..."
