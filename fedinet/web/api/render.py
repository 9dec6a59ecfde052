"""Shaping statuses and relationships as Mastodon entities, loading what they need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import statuses as statuses_db
from fedinet.db.types import Executor
from fedinet.models import Actor, Status
from fedinet.web.api.entities import load_statuses

__all__ = ["relationships_json", "status_json", "statuses_json"]


async def statuses_json(
    db: Executor, settings: Settings, statuses: Sequence[Status], viewer: Actor | None
) -> list[dict[str, Any]]:
    """Status entities in order, with their boosted statuses and authors loaded."""
    boosted_ids = [s.reblog_of_id for s in statuses if s.reblog_of_id is not None]
    boosted = await statuses_db.get_statuses_by_ids(db, boosted_ids) if boosted_ids else {}
    author_ids = {s.actor_id for s in statuses} | {s.actor_id for s in boosted.values()}
    authors = await actors_db.get_actors_to_show(db, list(author_ids))
    return await load_statuses(
        db, settings, statuses, authors=authors, boosted=boosted, viewer=viewer
    )


async def status_json(
    db: Executor, settings: Settings, status: Status, viewer: Actor | None
) -> dict[str, Any]:
    return (await statuses_json(db, settings, [status], viewer))[0]


async def relationships_json(
    db: Executor, viewer: Actor, target_ids: list[int]
) -> list[dict[str, Any]]:
    rows = await follows_db.get_relationships(db, viewer.id, target_ids)
    return [
        {
            "id": str(row["id"]),
            "following": row["following"],
            "showing_reblogs": row["following"],
            "notifying": False,
            "languages": None,
            "followed_by": row["followed_by"],
            "blocking": row["blocking"],
            "blocked_by": row["blocked_by"],
            "muting": False,
            "muting_notifications": False,
            "requested": row["requested"],
            "requested_by": row["requested_by"],
            "domain_blocking": False,
            "endorsed": False,
            "note": "",
        }
        for row in rows
    ]
