"""Binding notifications (800-63B-4): queued with the change, delivered to a real SMTP server on
127.0.0.1, kept while it is down and across a restart, never carrying a secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.admin import Administration
from core.enrollment import Enrollment
from core.errors import TokenUnavailable
from core.notifications import EmlDirectory, Outbox, SmtpSender
from core.store import Store
from core.tokens import Method
from tests.conftest import PASSWORD, World
from tests.smtp_server import LocalSmtp

FROM = "kiosk@clinic.example"


@pytest.fixture
def smtp() -> Iterator[LocalSmtp]:
    server = LocalSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def mail_world(world: World) -> World:
    with world.system.store.begin() as conn:
        world.system.accounts.set_epcs_details(conn, "ana", email="ana@example.org")
    return world


def sender(server: LocalSmtp) -> SmtpSender:
    return SmtpSender("127.0.0.1", server.port, starttls=False, timeout=5)


def bind_hardware(world: World, username: str, serial: str) -> list[str]:
    signed = world.sign_in(username)
    enrollment = Enrollment.start(world.system, signed)
    enrollment.choose_method(Method.CODE_GENERATOR)
    enrollment.add_new_device()
    enrollment.enter_serial(serial)
    tokens = world.system.tokens
    return enrollment.synchronize(tokens.code_now(serial)[0], tokens.code_now(serial, offset_steps=1)[0])


def test_binding_queues_and_the_sender_delivers_without_secrets(mail_world: World, smtp: LocalSmtp) -> None:
    system = mail_world.system
    backup_codes = bind_hardware(mail_world, "ana", "T1")
    events = [n.event for n in system.outbox.notices(pending_only=True)]
    assert sorted(events) == ["backup_codes_issued", "bind"]
    report = system.outbox.flush(sender(smtp), FROM)
    assert len(report.sent) == 2 and not report.failed
    assert system.outbox.pending_count() == 0
    received = {m["Subject"]: m for m in smtp.inbox.messages}
    bound = received["iPrescribe: New sign-in factor bound"]
    assert bound["To"] == "ana@example.org" and bound["X-Envelope-To"] == "ana@example.org"
    assert bound["From"] == FROM and "serial T1" in bound.get_payload()
    assert "iPrescribe: New backup codes issued" in received
    everything = "".join(m.as_string() for m in smtp.inbox.messages)
    for secret in [*backup_codes, PASSWORD, system.tokens.code_now("T1")[0]]:
        assert secret not in everything
    # Delivered once: a second flush sends nothing.
    assert system.outbox.flush(sender(smtp), FROM).sent == []
    assert len(smtp.inbox.messages) == 2


def test_kept_while_the_server_is_down_and_delivered_when_it_comes_back(mail_world: World, tmp_path: Path) -> None:
    system = mail_world.system
    server = LocalSmtp()  # not started: the mail server is down
    Administration(system, "ivy").assign("T1", "ana")  # the binding itself never waits on mail
    report = system.outbox.flush(sender(server), FROM)
    assert report.failed and not report.sent
    (kept,) = system.outbox.notices(pending_only=True)
    assert kept.event == "assign" and kept.attempts == 1 and "Connection" in kept.last_error
    # A restart: a new store object over the same file still holds the message.
    reopened = Store(system.store.url)  # the same store, SQLite file or PostgreSQL database
    try:
        outbox = Outbox(reopened, mail_world.clock)
        assert [n.id for n in outbox.notices(pending_only=True)] == [kept.id]
        server.start()
        try:
            assert outbox.flush(sender(server), FROM).sent == []  # not due yet: backing off
            mail_world.clock.advance(61)
            assert outbox.flush(sender(server), FROM).sent == [kept.id]
            assert [m["Subject"] for m in server.inbox.messages] == ["iPrescribe: New sign-in factor bound"]
        finally:
            server.stop()
    finally:
        reopened.dispose()
    assert system.outbox.pending_count() == 0


def test_every_factor_and_permission_change_is_announced(mail_world: World) -> None:
    system = mail_world.system
    admin = Administration(system, "ivy")
    admin.assign("T1", "ana")
    admin.replace("T1", "T2")
    admin.issue_backup_codes("ana")
    admin.revoke("T2", "lost")
    events = [n.event for n in reversed(system.outbox.notices())]
    assert events == ["assign", "replace", "backup_codes_issued", "revoke"]
    refused = system.outbox.pending_count()
    with pytest.raises(TokenUnavailable):
        admin.revoke("T2", "lost")  # already revoked: refused, so nothing to announce
    assert system.outbox.pending_count() == refused


def test_an_account_without_address_is_kept_until_it_has_one(world: World, smtp: LocalSmtp) -> None:
    system = world.system
    Administration(system, "ivy").assign("T1", "ben")
    report = system.outbox.flush(sender(smtp), FROM)
    assert report.no_address and system.outbox.pending_count() == 1
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ben", email="ben@example.org")
    world.clock.advance(3600)
    assert len(system.outbox.flush(sender(smtp), FROM).sent) == 1
    assert smtp.inbox.messages[0]["To"] == "ben@example.org"


def test_the_demo_writes_eml_files(mail_world: World, tmp_path: Path) -> None:
    Administration(mail_world.system, "ivy").assign("T1", "ana")
    outdir = tmp_path / "outbox"
    assert len(mail_world.system.outbox.flush(EmlDirectory(outdir), FROM).sent) == 1
    (eml,) = outdir.glob("*.eml")
    assert "To: ana@example.org" in eml.read_text()


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_starttls_verifies_the_server_certificate(mail_world: World, tmp_path: Path) -> None:
    import ssl

    cert_file, key_file = self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    server = LocalSmtp(tls_context=server_ctx, require_starttls=True).start()
    try:
        Administration(mail_world.system, "ivy").assign("T1", "ana")
        untrusted = SmtpSender("127.0.0.1", server.port, starttls=True, timeout=5)
        report = mail_world.system.outbox.flush(untrusted, FROM)
        assert report.failed and server.inbox.messages == []  # a certificate nobody vouches for: kept
        (kept,) = mail_world.system.outbox.notices(pending_only=True)
        assert "CERTIFICATE_VERIFY_FAILED" in kept.last_error
        trusting = SmtpSender(
            "127.0.0.1", server.port, starttls=True, timeout=5, tls_context=ssl.create_default_context(cafile=cert_file)
        )
        assert mail_world.system.outbox.flush(trusting, FROM, force=True).sent == [kept.id]
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()
