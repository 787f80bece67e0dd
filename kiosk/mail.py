"""Which way queued notifications leave this kiosk: SMTP from `[smtp]`, or .eml files in the demo.

`OutboxFlusher` delivers in the background while the kiosk runs; `ipkiosk notifications send`
(or the systemd timer) does the same on demand. Both only read the outbox, so neither can make a
binding wait for mail.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.credentials import CredentialStore
from core.notifications import SMTP_PASSWORD, EmlDirectory, NotificationError, Outbox, Sender, SmtpSender
from kiosk.config import Settings

log = logging.getLogger(__name__)
DEMO_FROM = "ipkiosk-demo@demo.invalid"
FLUSH_EVERY = 30.0


def demo_outbox_dir(data_dir: Path) -> Path:
    return data_dir / "outbox"


def sender_for(settings: Settings, credentials: CredentialStore | None) -> tuple[Sender, str]:
    """The sender and From address; NotificationError naming the fix when none is configured."""
    if settings.smtp is not None:
        smtp = settings.smtp
        password = credentials.get(SMTP_PASSWORD) if credentials is not None and smtp.username else None
        sender = SmtpSender(
            smtp.host,
            smtp.port,
            starttls=smtp.starttls,
            username=smtp.username,
            password=password,
            timeout=smtp.timeout,
        )
        return sender, smtp.from_addr
    if settings.demo:
        return EmlDirectory(demo_outbox_dir(settings.data_dir)), DEMO_FROM
    raise not_configured()


def not_configured() -> NotificationError:
    return NotificationError(
        "No mail server is configured, so notifications wait in the outbox.",
        "Add an [smtp] section (host, port, from, starttls) to config.toml and, if the server needs a login, "
        "`ipkiosk credentials set smtp-password`.",
    )


class OutboxFlusher(threading.Thread):
    """Deliver what is due every FLUSH_EVERY seconds until stopped; errors stay in the outbox rows.

    It opens its own store connection in the thread, so a slow keyring or database never holds
    up the kiosk's first screen.
    """

    def __init__(self, settings: Settings, every: float = FLUSH_EVERY) -> None:
        super().__init__(name="outbox-flusher", daemon=True)
        self.settings = settings
        self.every = every
        self._stop = threading.Event()

    def run(self) -> None:
        from core.clock import SystemClock
        from core.errors import KioskError
        from kiosk.services import open_credentials, open_store

        try:
            credentials = open_credentials(self.settings)
            store = open_store(self.settings, credentials)
            self.sender, self.from_addr = sender_for(self.settings, credentials)
        except KioskError as exc:
            log.warning("notifications are not delivered by this kiosk: %s", exc.message)
            return
        self.outbox = Outbox(store, SystemClock())
        try:
            self._loop()
        finally:
            store.dispose()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.outbox.flush(self.sender, self.from_addr)
            except Exception as exc:  # a store hiccup must not end the thread; the next round retries
                log.warning("outbox flush failed: %s", type(exc).__name__)
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()


def start_flusher(settings: Settings) -> OutboxFlusher | None:
    """A running flusher when this kiosk has somewhere to deliver to (SMTP, or the demo's files)."""
    if settings.smtp is None and not settings.demo:
        return None
    flusher = OutboxFlusher(settings)
    flusher.start()
    return flusher
