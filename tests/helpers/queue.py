"""Feeding activities through the real inbox queue, as the inbox stores them."""

from __future__ import annotations

import json
from typing import Any

from fedinet.db.inbox import InboxItem, get_inbox_item_by_activity_id, insert_inbox_item
from fedinet.federation.processing import process_pending
from fedinet.runtime import Runtime

__all__ = ["store_and_process"]


async def store_and_process(
    runtime: Runtime, activity: dict[str, Any], actor_uri: str
) -> InboxItem:
    """Store ``activity`` as the inbox does after verifying ``actor_uri``'s main-key
    signature, run the worker until the queue is empty, return the item as it ended."""
    await insert_inbox_item(
        runtime.pool,
        activity_id=activity["id"],
        activity_type=activity["type"],
        actor_uri=actor_uri,
        recipient_actor_id=None,
        key_id=f"{actor_uri}#main-key",
        body_json=json.dumps(activity),
    )
    while await process_pending(runtime):
        pass
    item = await get_inbox_item_by_activity_id(runtime.pool, activity["id"])
    assert item is not None
    return item
