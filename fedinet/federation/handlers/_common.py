"""What every activity handler needs: the verified actor, objects by id, local targets."""

from __future__ import annotations

from typing import Any

from fedinet.ap.activities import object_id
from fedinet.db import actors as actors_db
from fedinet.db.inbox import InboxItem
from fedinet.db.types import Executor
from fedinet.errors import BadActivity
from fedinet.models import Actor
from fedinet.runtime import Runtime

__all__ = ["activity_actor", "local_actor", "required_object_id"]


async def activity_actor(runtime: Runtime, item: InboxItem) -> Actor:
    """The actor whose signature the inbox verified (it is stored by then)."""
    actor = await actors_db.get_actor_by_uri(runtime.pool, item.actor_uri)
    if actor is None:
        raise BadActivity(f"the sender {item.actor_uri} is unknown")
    return actor


async def local_actor(db: Executor, uri: str | None) -> Actor | None:
    if uri is None:
        return None
    actor = await actors_db.get_actor_by_uri(db, uri)
    return actor if actor is not None and actor.is_local else None


def required_object_id(activity: dict[str, Any]) -> str:
    value = object_id(activity.get("object"))
    if value is None:
        raise BadActivity(f"the {activity.get('type')} has no object")
    return value
