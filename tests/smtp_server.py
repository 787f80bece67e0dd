"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for notification tests."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler: every accepted message, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content or envelope.content)
        msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 Message accepted for delivery"


class LocalSmtp:
    """Start, stop and start again on the same port, as a mail server going down and back up."""

    def __init__(self, port: int | None = None, **kwargs: Any) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.kwargs = kwargs
        self._controller: Controller | None = None

    def start(self) -> LocalSmtp:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
