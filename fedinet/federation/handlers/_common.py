"""What every activity handler needs: the verified actor, objects by id, local targets."""

from __future__ import annotations

from typing import Any

from fedinet.ap.activities import object_id
from fedinet.db import actors as actors_db
from fedinet.db.domain_blocks import is_domain_blocked
from fedinet.db.inbox import InboxItem
from fedinet.db.types import Executor
from fedinet.errors import BadActivity, DomainBlocked, PermissionDenied
from fedinet.models import Actor
from fedinet.runtime import Runtime

__all__ = ["activity_actor", "local_actor", "required_object_id"]


async def activity_actor(runtime: Runtime, item: InboxItem) -> Actor:
    """The actor whose signature the inbox verified (it is stored by then).

    Activities stored before their domain was suspended, or before a moderator suspended
    the actor, are refused here (and dropped by the worker)."""
    actor = await actors_db.get_actor_by_uri(runtime.pool, item.actor_uri)
    if actor is None:
        raise BadActivity(f"the sender {item.actor_uri} is unknown")
    if not actor.is_local:
        if actor.suspended_at is not None:
            raise PermissionDenied(f"the sender {actor.uri} is suspended on this instance")
        if await is_domain_blocked(runtime.pool, actor.domain):
            raise DomainBlocked(f"the domain {actor.domain} is blocked on this instance")
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
