"""One audit export, whichever front end asks: `ipkiosk audit export` and the IT staff area's
audit screen write the same columns to a private file, and both leave an `audit_export` row."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

from core.admin import AUDIT_COLUMNS
from core.events import Event
from kiosk.cli import main as ipkiosk
from tests.ui.conftest import SIZE, Kiosk, settle
from tests.ui.it_pilot import open_task, put


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def exports(kiosk: Kiosk) -> list[tuple[str, str]]:
    return [(r.actor, r.detail) for r in kiosk.services.system.audit.rows(event=Event.AUDIT_EXPORT)]


async def test_the_cli_and_the_it_screen_export_alike(kiosk: Kiosk, tmp_path: Path) -> None:
    from_screen, from_cli = tmp_path / "it.csv", tmp_path / "cli.csv"
    for target in (from_screen, from_cli):  # a shared folder's readable file, overwritten
        target.write_text("old\n")
        os.chmod(target, 0o644)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "audit")
        await put(pilot, "#export-path", str(from_screen), submit=True)
        await settle(pilot)
    assert exports(kiosk) and exports(kiosk)[-1][0] == "it.admin"
    screen_rows = len(read(from_screen)[1])

    assert ipkiosk(["--data-dir", str(kiosk.data_dir), "audit", "export", "--csv", str(from_cli)]) == 0

    (screen_columns, screen_data), (cli_columns, cli_data) = read(from_screen), read(from_cli)
    assert screen_columns == cli_columns == list(AUDIT_COLUMNS)
    assert cli_data[:screen_rows] == screen_data  # the same rows, the CLI's one export later
    assert cli_data[-1]["event"] == "audit_export" and cli_data[-1]["actor"] == "it.admin"
    for target in (from_screen, from_cli):
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    who = [actor for actor, _ in exports(kiosk)]
    assert who[0] == "it.admin" and who[1].startswith("cli:") and len(who) == 2
    assert [detail for _, detail in exports(kiosk)] == [f"rows={screen_rows}", f"rows={len(cli_data)}"]
