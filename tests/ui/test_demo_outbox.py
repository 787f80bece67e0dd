"""The demo's welcome screen says where its binding notifications go (issue 12: without a mail
server the demo writes them as .eml files under DIR/outbox/)."""

from __future__ import annotations

from pathlib import Path

from core.clock import ManualClock
from tests.ui.conftest import SIZE, Kiosk, make_kiosk, screen_text, settle


async def test_the_demo_welcome_screen_names_the_outbox(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = " ".join(screen_text(pilot).split())
        assert ".eml files to the outbox folder of the demo data" in text


async def test_with_a_mail_server_the_outbox_is_not_mentioned(
    demo_template: Path, tmp_path: Path, clock: ManualClock
) -> None:
    k = make_kiosk(demo_template, tmp_path, clock, smtp={"host": "127.0.0.1", "port": 2525, "from": "k@clinic.example"})
    try:
        async with k.app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert ".eml" not in screen_text(pilot)
    finally:
        k.services.close()
