"""Mail: through a real SMTP conversation (a minimal SMTP server on loopback, spoken to
by the standard library's client), or to the log without a server."""

from __future__ import annotations

import asyncio
import email
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from fedinet.config import Settings
from fedinet.services.mail import send_mail, sender_address


class SmtpSink:
    """Just enough of RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to receive."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.auth: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 sink ESMTP")
        sender, recipients = "", []
        while line := (await reader.readline()).decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250-sink")
                say("250 AUTH PLAIN")
            elif verb == "AUTH":
                self.auth.append(line)
                say("235 ok")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                say("250 ok")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                body = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    body += chunk
                self.messages.append((sender, recipients, body))
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                await writer.drain()
                break
            else:
                say("250 ok")
            await writer.drain()
        writer.close()


@pytest.fixture
async def sink() -> AsyncIterator[tuple[SmtpSink, int]]:
    made = SmtpSink()
    server = await asyncio.start_server(made.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield made, port


async def test_mail_goes_through_smtp(sink: tuple[SmtpSink, int], settings: Settings) -> None:
    server, port = sink
    configured = replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_username="fedinet",
        smtp_password="secret",
    )
    await send_mail(configured, to="alice@example.org", subject="Hello", body="Line one\n")
    assert len(server.messages) == 1
    sender, recipients, raw = server.messages[0]
    assert sender == "noreply@fedinet.test" == sender_address(configured)
    assert recipients == ["alice@example.org"]
    message = email.message_from_bytes(raw)
    assert message["Subject"] == "Hello" and "Line one" in message.get_payload()
    assert server.auth and server.auth[0].startswith("AUTH PLAIN")


async def test_smtp_failure_is_logged_not_raised(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    broken = replace(settings, smtp_host="127.0.0.1", smtp_port=1, smtp_security="none")
    with caplog.at_level(logging.ERROR, logger="fedinet.mail"):
        await send_mail(broken, to="a@example.org", subject="x", body="y")
    assert "mail failed" in caplog.text


async def test_without_smtp_the_mail_is_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fedinet.mail"):
        await send_mail(settings, to="a@example.org", subject="Reset", body="the link")
    assert "to=a@example.org" in caplog.text and "the link" in caplog.text
