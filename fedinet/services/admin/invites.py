"""Invitations for registration mode ``invite``: admins make, list and revoke them.
The codes themselves are made and checked by :mod:`fedinet.services.registrations`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedinet.config import Settings
from fedinet.db import web_sessions as sessions_db
from fedinet.db.types import Executor
from fedinet.db.web_sessions import Invite
from fedinet.errors import NotFound, ValidationError
from fedinet.services import registrations

__all__ = [
    "MAX_INVITE_DAYS",
    "MAX_INVITE_USES",
    "create_invite",
    "invite_url",
    "list_invites",
    "revoke_invite",
]

MAX_INVITE_USES = 1000
MAX_INVITE_DAYS = 365


def invite_url(settings: Settings, code: str) -> str:
    """The sign-up address that carries the code."""
    return f"{settings.url}/signup?invite={code}"


def _whole(value: str | int | None, name: str, maximum: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise ValidationError(f"give a whole number from 1 to {maximum}, or nothing", field=name)
    return int(text)


async def create_invite(
    db: Executor,
    *,
    created_by: int | None,
    max_uses: str | int | None = 1,
    days: str | int | None = 7,
    comment: str = "",
) -> tuple[str, Invite]:
    """A new invitation: (the code, shown only now; the invitation). ``max_uses`` or
    ``days`` left empty mean no limit."""
    uses = _whole(max_uses, "max_uses", MAX_INVITE_USES)
    valid_days = _whole(days, "days", MAX_INVITE_DAYS)
    if len(comment) > 200:
        raise ValidationError("the note is at most 200 characters", field="comment")
    return await registrations.create_invite(
        db,
        created_by=created_by,
        max_uses=uses,
        expires_in=None if valid_days is None else timedelta(days=valid_days),
        comment=comment.strip(),
    )


async def list_invites(db: Executor) -> list[Invite]:
    return await sessions_db.list_invites(db)


async def revoke_invite(db: Executor, invite_id: int) -> None:
    if not await sessions_db.revoke_invite(db, invite_id, datetime.now(UTC)):
        raise NotFound(f"there is no live invitation #{invite_id}", reason="no_invite")
