"""`ipkiosk notifications list/send`, in-process on a manual clock: .eml files in the demo, and a
real SMTP server on 127.0.0.1 that is down first (message kept) and then up (message delivered)."""

from __future__ import annotations

from pathlib import Path

from tests.cli_run import Cli, demo_cli
from tests.smtp_server import LocalSmtp


def test_demo_writes_eml_files_under_outbox(tmp_path: Path) -> None:
    demo = Cli(tmp_path / "demo")
    r = demo("demo", "--build-only")
    assert r.returncode == 0 and str(demo.data_dir / "outbox") in r.stdout
    demo("tokens", "assign", "DEMO-0003", "dr.okafor", check=True)
    rc, rows = demo.json("notifications", "list", "--pending")
    assert rc == 0 and [(n["event"], n["to"], n["state"]) for n in rows] == [
        ("assign", "dr.okafor@demo.invalid", "waiting")
    ]
    rc, doc = demo.json("notifications", "send")
    assert rc == 0 and len(doc["sent"]) == 1 and doc["waiting"] == 0
    (eml,) = (demo.data_dir / "outbox").glob("*.eml")
    text = eml.read_text()
    assert "To: dr.okafor@demo.invalid" in text and "DEMO-0003" in text


def test_kept_while_the_mail_server_is_down_and_sent_when_it_is_back(tmp_path: Path) -> None:
    demo = demo_cli(tmp_path / "demo")
    server = LocalSmtp()
    with (demo.data_dir / "config.toml").open("a") as f:
        f.write(
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nfrom = "kiosk@clinic.example"\nstarttls = false\n'
        )
    demo("tokens", "assign", "DEMO-0004", "dr.chen", check=True)  # binding works, mail down
    rc, doc = demo.json("notifications", "send")
    assert rc == 1 and len(doc["failed"]) == 1 and doc["waiting"] == 1
    rc, rows = demo.json("notifications", "list")
    assert rows[0]["state"] == "retrying" and rows[0]["attempts"] == 1 and rows[0]["last_error"]
    server.start()
    try:
        rc, doc = demo.json("notifications", "send")
        assert rc == 0 and len(doc["sent"]) == 1 and doc["waiting"] == 0
        (msg,) = server.inbox.messages
        assert msg["To"] == "dr.chen@demo.invalid" and "DEMO-0004" in msg.get_payload()
    finally:
        server.stop()


def test_no_mail_server_configured_names_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "plain"
    data.mkdir()
    (data / "config.toml").write_text('kiosk_id = "front-desk"\n')
    rc, doc = Cli(data).json("notifications", "send")
    assert rc == 2 and doc["error"] == "NotificationError" and "[smtp]" in doc["hint"]


def test_a_bad_smtp_section_is_a_config_error(tmp_path: Path) -> None:
    data = tmp_path / "bad"
    data.mkdir()
    (data / "config.toml").write_text('[smtp]\nhost = "x"\nport = 99999\nfrom = "a@b.c"\n')
    rc, doc = Cli(data).json("notifications", "list")
    assert rc == 2 and doc["error"] == "ConfigError" and "smtp.port" in doc["message"]
