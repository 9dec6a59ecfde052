"""Shaping statuses and relationships as Mastodon entities, loading what they need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedinet.config import Settings
from fedinet.db import account_notes as account_notes_db
from fedinet.db import counts as counts_db
from fedinet.db import filters as filters_db
from fedinet.db import follows as follows_db
from fedinet.db import mutes as mutes_db
from fedinet.db import notifications as notifications_db
from fedinet.db import statuses as statuses_db
from fedinet.db.types import Executor
from fedinet.models import Actor, Status
from fedinet.services import filters
from fedinet.web.api.entities import load_statuses
from fedinet.web.api.member_entities import filter_result_to_mastodon, searchable_text

__all__ = ["relationships_json", "status_json", "statuses_json"]


async def statuses_json(
    db: Executor,
    settings: Settings,
    statuses: Sequence[Status],
    viewer: Actor | None,
    *,
    context: str | None = None,
) -> list[dict[str, Any]]:
    """Status entities in order, with their boosted statuses and authors loaded. With a
    viewer and a filter ``context`` (``home``, ``public``, ``thread``, ``notifications``,
    ``account``), ``filtered`` lists the viewer's filters each status trips."""
    boosted_ids = [s.reblog_of_id for s in statuses if s.reblog_of_id is not None]
    boosted = await statuses_db.get_statuses_by_ids(db, boosted_ids) if boosted_ids else {}
    everything = [*statuses, *boosted.values()]
    # a page in a few round trips: the statuses' counts, flags, tags and mentions; their
    # authors and the mentioned actors with their counts; the filters when there are any
    facts = await counts_db.status_page_facts(
        db, list(dict.fromkeys(s.id for s in everything)), None if viewer is None else viewer.id
    )
    wanted = {s.actor_id for s in everything}
    wanted.update(i for found in facts.mentioned_ids.values() for i in found)
    authors, author_counts = await counts_db.get_authors_to_show(db, sorted(wanted))
    rendered = await load_statuses(
        db,
        settings,
        statuses,
        authors=authors,
        boosted=boosted,
        viewer=viewer,
        author_counts=author_counts,
        facts=facts,
    )
    if viewer is not None and context is not None and rendered and facts.viewer_has_filters:
        active = await filters_db.list_filters(db, viewer.id, active_only=True)
        if active:
            for status, entity in zip(statuses, rendered, strict=True):
                shown = boosted.get(status.reblog_of_id or 0, status)
                matches = filters.match_filters(active, context, shown.id, searchable_text(shown))
                entity["filtered"] = [filter_result_to_mastodon(m) for m in matches]
                if entity.get("reblog") is not None:
                    entity["reblog"]["filtered"] = entity["filtered"]
    return rendered


async def status_json(
    db: Executor,
    settings: Settings,
    status: Status,
    viewer: Actor | None,
    *,
    context: str | None = None,
) -> dict[str, Any]:
    return (await statuses_json(db, settings, [status], viewer, context=context))[0]


async def relationships_json(
    db: Executor, viewer: Actor, target_ids: list[int]
) -> list[dict[str, Any]]:
    rows = await follows_db.get_relationships(db, viewer.id, target_ids)
    muting = await mutes_db.muting_flags(db, viewer.id, [row["id"] for row in rows])
    notified = await notifications_db.subscribed_to(db, viewer.id, [row["id"] for row in rows])
    notes = await account_notes_db.get_account_notes(db, viewer.id, target_ids)
    return [
        {
            "id": str(row["id"]),
            "following": row["following"],
            "showing_reblogs": row["following"],
            "notifying": row["id"] in notified and (row["following"] or row["requested"]),
            "languages": None,
            "followed_by": row["followed_by"],
            "blocking": row["blocking"],
            "blocked_by": row["blocked_by"],
            "muting": muting[row["id"]][0],
            "muting_notifications": muting[row["id"]][1],
            "requested": row["requested"],
            "requested_by": row["requested_by"],
            "domain_blocking": muting[row["id"]][2],
            "endorsed": False,
            "note": notes.get(row["id"], ""),
        }
        for row in rows
    ]
