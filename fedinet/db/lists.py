"""Named queries for a member's lists of accounts."""

from __future__ import annotations

from dataclasses import dataclass

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor, Record
from fedinet.models import Actor

__all__ = [
    "AccountList",
    "add_list_accounts",
    "delete_list",
    "get_list",
    "insert_list",
    "list_list_accounts",
    "list_lists",
    "list_lists_with_account",
    "remove_list_accounts",
    "update_list",
]


@dataclass(frozen=True, slots=True)
class AccountList:
    id: int
    owner_id: int
    title: str
    replies_policy: str
    exclusive: bool


def _list(row: Record) -> AccountList:
    return AccountList(**dict(row))


async def insert_list(
    db: Executor, owner_id: int, *, title: str, replies_policy: str, exclusive: bool
) -> AccountList:
    row = await db.fetchrow(
        """
        INSERT INTO lists (owner_id, title, replies_policy, exclusive) VALUES ($1, $2, $3, $4)
        RETURNING id, owner_id, title, replies_policy, exclusive
        """,
        owner_id,
        title,
        replies_policy,
        exclusive,
    )
    assert row is not None
    return _list(row)


async def get_list(db: Executor, owner_id: int, list_id: int) -> AccountList | None:
    """The list, if it is ``owner_id``'s."""
    row = await db.fetchrow(
        "SELECT id, owner_id, title, replies_policy, exclusive FROM lists "
        "WHERE id = $2 AND owner_id = $1",
        owner_id,
        list_id,
    )
    return None if row is None else _list(row)


async def list_lists(db: Executor, owner_id: int) -> list[AccountList]:
    rows = await db.fetch(
        "SELECT id, owner_id, title, replies_policy, exclusive FROM lists "
        "WHERE owner_id = $1 ORDER BY id",
        owner_id,
    )
    return [_list(row) for row in rows]


async def list_lists_with_account(db: Executor, owner_id: int, actor_id: int) -> list[AccountList]:
    rows = await db.fetch(
        """
        SELECT l.id, l.owner_id, l.title, l.replies_policy, l.exclusive
        FROM lists l JOIN list_accounts la ON la.list_id = l.id
        WHERE l.owner_id = $1 AND la.actor_id = $2 ORDER BY l.id
        """,
        owner_id,
        actor_id,
    )
    return [_list(row) for row in rows]


async def update_list(
    db: Executor, list_id: int, *, title: str, replies_policy: str, exclusive: bool
) -> AccountList:
    row = await db.fetchrow(
        """
        UPDATE lists SET title = $2, replies_policy = $3, exclusive = $4 WHERE id = $1
        RETURNING id, owner_id, title, replies_policy, exclusive
        """,
        list_id,
        title,
        replies_policy,
        exclusive,
    )
    assert row is not None
    return _list(row)


async def delete_list(db: Executor, list_id: int) -> None:
    await db.execute("DELETE FROM lists WHERE id = $1", list_id)


async def add_list_accounts(db: Executor, list_id: int, actor_ids: list[int]) -> None:
    await db.execute(
        """
        INSERT INTO list_accounts (list_id, actor_id)
        SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING
        """,
        list_id,
        actor_ids,
    )


async def remove_list_accounts(db: Executor, list_id: int, actor_ids: list[int]) -> None:
    await db.execute(
        "DELETE FROM list_accounts WHERE list_id = $1 AND actor_id = ANY($2::bigint[])",
        list_id,
        actor_ids,
    )


async def list_list_accounts(
    db: Executor,
    list_id: int,
    *,
    limit: int | None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor]]:
    """(membership id, account) pairs, newest first; ``limit`` None: all of them."""
    rows = await db.fetch(
        """
        SELECT la.id AS page_id, a.* FROM list_accounts la JOIN actors a ON a.id = la.actor_id
        WHERE la.list_id = $1
          AND ($3::bigint IS NULL OR la.id < $3)
          AND ($4::bigint IS NULL OR la.id > $4)
          AND ($5::bigint IS NULL OR la.id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -la.id ELSE la.id END
        LIMIT $2
        """,
        list_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    result = []
    for row in rows:
        values = dict(row)
        page_id = int(values.pop("page_id"))
        result.append((page_id, actor_from_row(values)))
    return result
