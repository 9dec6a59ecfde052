"""Create of a Note (or a Question, Article or Page, kept as one)."""

from __future__ import annotations

from fedinet.ap.sanitize import html_to_text
from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity
from fedinet.federation.handlers._common import activity_actor
from fedinet.federation.notes import parse_note_of, store_remote_status
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime
from fedinet.services.follows import receive_note_reply

__all__ = ["handle_create"]

SUPPORTED = ("Note", "Question", "Article", "Page")


@handles("Create")
async def handle_create(runtime: Runtime, item: InboxItem) -> None:
    author = await activity_actor(runtime, item)
    obj = item.body.get("object")
    if not isinstance(obj, dict) or obj.get("type") not in SUPPORTED:
        kind = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise BadActivity(f"Create of a {kind} is not supported")
    note = parse_note_of(author, obj, activity=item.body)  # checks attributedTo is the sender
    async with runtime.pool.acquire() as conn:
        status = await store_remote_status(conn, author, note)
        if status.visibility == "direct":
            # A direct message from someone whose follow request awaits a note is the note.
            await receive_note_reply(
                conn, runtime.settings, author, _without_mentions(note.content)
            )


def _without_mentions(content: str) -> str:
    """The text of a message, without the @mentions that address it."""
    words = html_to_text(content).split()
    while words and words[0].startswith("@"):
        words.pop(0)
    return " ".join(words)
