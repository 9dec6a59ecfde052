"""Direct messages from the system account that carry follow notes where nothing else
would: to people on servers that send no notes, to people on servers that show none, and
to members whose Mastodon client has no place for a note."""

from __future__ import annotations

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db.types import Connection
from fedinet.models import Actor, Status
from fedinet.services.accounts import SYSTEM_USERNAME, ensure_system_account
from fedinet.services.statuses import post_status
from fedinet.vocabulary import motive_labels

__all__ = [
    "AWAITING_DAYS",
    "ask_for_note",
    "deliver_note_as_message",
    "explain_refused_reply",
    "shared_ground_text",
    "system_account",
    "tell_member",
    "tell_refused",
]

AWAITING_DAYS = 14
MAX_MESSAGE = 480  # the status limit is 500, leave room for the mention


async def system_account(conn: Connection, settings: Settings) -> Actor:
    found = await actors_db.get_local_actor_by_username(conn, SYSTEM_USERNAME)
    return found if found is not None else await ensure_system_account(conn, settings)


async def _direct(
    conn: Connection, settings: Settings, sender: Actor, recipient: Actor, text: str
) -> Status:
    body = f"@{recipient.acct} {text}"
    if len(body) > MAX_MESSAGE:
        body = body[: MAX_MESSAGE - 1] + "…"

    async def resolve(acct: str) -> Actor | None:
        return recipient if acct.lower() in (recipient.acct.lower(), recipient.username) else None

    return await post_status(
        conn,
        settings,
        sender,
        text=body,
        resolve=resolve,
        visibility="direct",
        addressed=[recipient],
    )


def shared_ground_text(motives: list[str], interests: list[str], region: str | None) -> str:
    parts = []
    if interests:
        parts.append("interests " + " ".join(f"#{tag}" for tag in interests))
    if motives:
        parts.append("both here for " + ", ".join(motive_labels(motives)))
    if region:
        parts.append(f"both in {region}")
    return "; ".join(parts)


async def ask_for_note(
    conn: Connection, settings: Settings, member: Actor, requester: Actor
) -> Status:
    """Tell a requester whose server sent no note how to complete the request."""
    system = await system_account(conn, settings)
    text = (
        f"Hello! {member.display_name or member.username} (@{member.acct}) reads follow "
        "requests that come with a personal note. Reply to this message within "
        f"{AWAITING_DAYS} days with a few words about why you would like to connect, "
        "and your request will reach them with your note."
    )
    return await _direct(conn, settings, system, requester, text)


async def explain_refused_reply(
    conn: Connection, settings: Settings, requester: Actor, message: str, hint: str
) -> Status:
    """Once, never in a loop: why the reply could not be used as a note."""
    system = await system_account(conn, settings)
    text = f"Thank you — but that reply cannot go along as your note: {message} {hint}"
    return await _direct(conn, settings, system, requester, text)


async def tell_member(
    conn: Connection,
    settings: Settings,
    member: Actor,
    requester: Actor,
    note: str,
    shared: str,
) -> Status:
    """A member with a stock Mastodon client learns the note of a new follow request."""
    system = await system_account(conn, settings)
    text = f"@{requester.acct} asks to follow you and writes: “{note.strip()}”"
    if shared:
        text += f" What you share: {shared}."
    return await _direct(conn, settings, system, member, text)


async def deliver_note_as_message(
    conn: Connection, settings: Settings, sender: Actor, recipient: Actor, note: str
) -> Status:
    """The note of a follow request to someone on a server that shows no notes, as a
    direct message from the sender themselves."""
    text = f"I just asked to follow you. {note.strip()}"
    return await _direct(conn, settings, sender, recipient, text)


async def tell_refused(
    conn: Connection, settings: Settings, member: Actor, followee: Actor, message: str
) -> Status:
    """Our member learns why another server turned their follow request down."""
    system = await system_account(conn, settings)
    text = f"Your follow request to @{followee.acct} was not accepted: {message}"
    return await _direct(conn, settings, system, member, text)
