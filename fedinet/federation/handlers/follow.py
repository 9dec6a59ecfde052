"""Follow: a remote actor asks to follow a local member."""

from __future__ import annotations

from typing import Any

from fedinet.ap.sanitize import html_to_text, sanitize_html
from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity, NotFound
from fedinet.federation.handlers._common import activity_actor, local_actor, required_object_id
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime
from fedinet.services.follows import FollowIntent, receive_follow

__all__ = ["handle_follow"]


@handles("Follow")
async def handle_follow(runtime: Runtime, item: InboxItem) -> None:
    follower = await activity_actor(runtime, item)
    if item.activity_id is None:
        raise BadActivity("a Follow must have an id (it is what Accept refers to)")
    async with runtime.pool.acquire() as conn:
        target = await local_actor(conn, required_object_id(item.body))
        if target is None or target.is_gone:
            raise NotFound("the Follow's object is not a member of this server")
        await receive_follow(
            conn, runtime.settings, follower, target, item.activity_id, intent_of(item.body)
        )


def intent_of(activity: dict[str, Any]) -> FollowIntent:
    """The note (``content``, or the first ``contentMap`` value), motive and connect code
    a Follow carries; any server may send a note, fedinet's send all three."""
    content = activity.get("content")
    if not isinstance(content, str):
        content_map = activity.get("contentMap")
        if isinstance(content_map, dict):
            content = next((v for v in content_map.values() if isinstance(v, str)), None)
    note = html_to_text(sanitize_html(content)) if isinstance(content, str) else ""
    motive = activity.get("motive")
    code = activity.get("connectCode")
    return FollowIntent(
        note=note.strip(),
        motive=motive if isinstance(motive, str) else None,
        connect_code=code if isinstance(code, str) and len(code) <= 64 else None,
    )
