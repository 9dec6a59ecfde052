"""Named queries for members' private notes about accounts (``Relationship.note``)."""

from __future__ import annotations

from fedinet.db.types import Executor

__all__ = ["get_account_notes", "set_account_note"]


async def set_account_note(db: Executor, actor_id: int, target_id: int, comment: str) -> None:
    """Store the note; an empty one removes it."""
    if not comment:
        await db.execute(
            "DELETE FROM account_notes WHERE actor_id = $1 AND target_id = $2",
            actor_id,
            target_id,
        )
        return
    await db.execute(
        """
        INSERT INTO account_notes (actor_id, target_id, comment) VALUES ($1, $2, $3)
        ON CONFLICT (actor_id, target_id)
        DO UPDATE SET comment = EXCLUDED.comment, updated_at = now()
        """,
        actor_id,
        target_id,
        comment,
    )


async def get_account_notes(db: Executor, actor_id: int, target_ids: list[int]) -> dict[int, str]:
    rows = await db.fetch(
        "SELECT target_id, comment FROM account_notes "
        "WHERE actor_id = $1 AND target_id = ANY($2::bigint[])",
        actor_id,
        target_ids,
    )
    return {row["target_id"]: row["comment"] for row in rows}
