"""Sending fedinet's few mails (password resets).

With ``FEDINET_SMTP_HOST`` set, mails go out through that server (STARTTLS, implicit
TLS or plain, as ``FEDINET_SMTP_SECURITY`` says). Without it they are written to the
server log at WARNING level, so that a small instance without mail still works: the
admin reads the link there.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import urlsplit

from fedinet.config import Settings

__all__ = ["send_mail", "sender_address"]

log = logging.getLogger("fedinet.mail")

_TIMEOUT = 20.0


def sender_address(settings: Settings) -> str:
    host = urlsplit(settings.url).hostname or "localhost"
    return settings.smtp_from or f"noreply@{host}"


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=_TIMEOUT, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=_TIMEOUT)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


async def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send a plain-text mail, or log it when no SMTP server is configured. SMTP
    failures are logged, never raised: the caller's answer must not reveal them."""
    if settings.smtp_host is None:
        log.warning("mail (no FEDINET_SMTP_HOST set) to=%s subject=%s\n%s", to, subject, body)
        return
    message = EmailMessage()
    message["From"] = sender_address(settings)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail failed to=%s subject=%s error=%s", to, subject, exc)
