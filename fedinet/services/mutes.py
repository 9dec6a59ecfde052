"""Muting accounts and hiding whole domains, for one member only (nothing federates).

A mute (for ``duration`` seconds, or for good) hides the account's statuses from the
member's timelines, and its notifications too unless ``notifications`` is off. A member's
domain block hides every account of that domain from their timelines and notifications.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from fedinet.config import Settings
from fedinet.db import mutes as mutes_db
from fedinet.db.types import Connection
from fedinet.errors import ValidationError
from fedinet.models import Actor

__all__ = ["block_domain", "mute", "normalize_domain", "unblock_domain", "unmute"]

_DOMAIN: Final = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$"
)
MAX_DURATION: Final = 10 * 365 * 24 * 3600


async def mute(
    conn: Connection,
    actor: Actor,
    target: Actor,
    *,
    notifications: bool = True,
    duration: int = 0,
    now: datetime | None = None,
) -> None:
    if actor.id == target.id:
        raise ValidationError("you cannot mute yourself")
    if duration < 0 or duration > MAX_DURATION:
        raise ValidationError("duration must be a number of seconds", field="duration")
    expires_at = (now or datetime.now(UTC)) + timedelta(seconds=duration) if duration else None
    await mutes_db.upsert_mute(
        conn, actor.id, target.id, hide_notifications=notifications, expires_at=expires_at
    )


async def unmute(conn: Connection, actor: Actor, target: Actor) -> None:
    await mutes_db.delete_mute(conn, actor.id, target.id)


def normalize_domain(settings: Settings, raw: str | None) -> str:
    """A host (maybe with a port) from what a client sent: ``Example.COM.`` is
    ``example.com``; a URL's host is taken. The instance's own domain cannot be hidden."""
    value = (raw or "").strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].rstrip(".")
    try:
        value = value.encode("idna").decode("ascii") if value else value
    except UnicodeError:
        raise ValidationError("domain is not a valid domain", field="domain") from None
    if not value or not _DOMAIN.match(value):
        raise ValidationError("domain is not a valid domain", field="domain")
    if value == settings.domain:
        raise ValidationError("you cannot block your own instance", field="domain")
    return value


async def block_domain(conn: Connection, settings: Settings, actor: Actor, domain: str) -> None:
    await mutes_db.insert_account_domain_block(conn, actor.id, normalize_domain(settings, domain))


async def unblock_domain(conn: Connection, settings: Settings, actor: Actor, domain: str) -> None:
    await mutes_db.delete_account_domain_block(conn, actor.id, normalize_domain(settings, domain))
