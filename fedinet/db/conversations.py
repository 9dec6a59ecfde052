"""Named queries for direct-message conversations.

A member's conversation is the set of the other people in a direct message (its author
and those it mentions, less the member). The rows of ``conversations`` are made when the
member first lists them and keep how far each was read and removed; the statuses
themselves are the direct statuses the member wrote or was mentioned in. A conversation is
unread when its last status is someone else's, newer than what the member marked read.

The member's direct statuses are found from their side (their own statuses, by the
partial index statuses_direct_actor_idx of migrations/0014, and their mentions), never by
reading every direct status of the instance: a scan of ``statuses``, most of it remote.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedinet.db.types import Executor

__all__ = [
    "Conversation",
    "get_conversation",
    "hide_conversation",
    "list_conversations",
    "mark_conversation_read",
]


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    participant_ids: list[int]
    last_status_id: int
    unread: bool


_GROUPS = """
    WITH direct AS (
        SELECT s.id, s.actor_id,
               coalesce((SELECT array_agg(p ORDER BY p) FROM (
                   SELECT s.actor_id AS p
                   UNION SELECT m.actor_id FROM mentions m WHERE m.status_id = s.id
               ) AS people WHERE p <> $1), '{}') AS participants
        FROM statuses s
        WHERE s.id IN (
                SELECT o.id FROM statuses o
                WHERE o.actor_id = $1 AND o.visibility = 'direct' AND o.deleted_at IS NULL
                  AND o.reblog_of_id IS NULL
                UNION
                SELECT m.status_id FROM mentions m WHERE m.actor_id = $1)
          AND s.visibility = 'direct' AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL
    ), grouped AS (
        SELECT participants, max(id) AS last_status_id,
               max(id) FILTER (WHERE actor_id <> $1) AS last_received_id
        FROM direct GROUP BY participants
    ), made AS (
        INSERT INTO conversations (owner_id, participant_ids)
        SELECT $1, participants FROM grouped
        ON CONFLICT (owner_id, participant_ids) DO NOTHING
        RETURNING id, participant_ids, read_up_to, hidden_up_to
    ), known AS (
        SELECT id, participant_ids, read_up_to, hidden_up_to FROM made
        UNION ALL
        SELECT id, participant_ids, read_up_to, hidden_up_to FROM conversations
        WHERE owner_id = $1
    )
    SELECT k.id, k.participant_ids, g.last_status_id,
           (g.last_received_id = g.last_status_id AND g.last_status_id > k.read_up_to)
               IS TRUE AS unread
    FROM grouped g JOIN known k ON k.participant_ids = g.participants
    WHERE g.last_status_id > k.hidden_up_to
"""


async def list_conversations(db: Executor, owner_id: int) -> list[Conversation]:
    """Every conversation not removed since its last status, the latest first."""
    rows = await db.fetch(_GROUPS + " ORDER BY g.last_status_id DESC", owner_id)
    return [Conversation(**dict(row)) for row in rows]


async def get_conversation(
    db: Executor, owner_id: int, conversation_id: int
) -> Conversation | None:
    for conversation in await list_conversations(db, owner_id):
        if conversation.id == conversation_id:
            return conversation
    return None


async def mark_conversation_read(
    db: Executor, owner_id: int, conversation_id: int, up_to: int
) -> None:
    await db.execute(
        "UPDATE conversations SET read_up_to = greatest(read_up_to, $3) "
        "WHERE id = $2 AND owner_id = $1",
        owner_id,
        conversation_id,
        up_to,
    )


async def hide_conversation(db: Executor, owner_id: int, conversation_id: int, up_to: int) -> None:
    await db.execute(
        "UPDATE conversations SET hidden_up_to = greatest(hidden_up_to, $3), "
        "read_up_to = greatest(read_up_to, $3) WHERE id = $2 AND owner_id = $1",
        owner_id,
        conversation_id,
        up_to,
    )
