"""Honouring ``Idempotency-Key`` when a member posts: the same key from the same token
within an hour gives back the status first made, and makes no second one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from fedinet.db import statuses as statuses_db
from fedinet.db import threads as threads_db
from fedinet.db.locks import advisory_xact_lock
from fedinet.db.types import Connection
from fedinet.models import Status

__all__ = ["MAX_KEY", "post_once"]

MAX_KEY: Final = 256


async def post_once(
    conn: Connection, token_id: int, key: str | None, post: Callable[[], Awaitable[Status]]
) -> Status:
    """``post()`` unless this token already posted with ``key`` in the last hour. A key
    that is empty or too long is ignored (Mastodon ignores what it cannot store)."""
    if not key or len(key) > MAX_KEY:
        return await post()
    async with conn.transaction():
        # Two requests with one key at once: the second waits, then finds the first's.
        await advisory_xact_lock(conn, f"idempotency:{token_id}:{key}")
        earlier = await threads_db.get_idempotent_status(conn, token_id, key)
        if earlier is not None:
            status = await statuses_db.get_status_by_id(conn, earlier)
            if status is not None and status.deleted_at is None:
                return status
        status = await post()
        await threads_db.remember_idempotency_key(conn, token_id, key, status.id)
    return status
