"""A member's lists of accounts they follow."""

from __future__ import annotations

from typing import Final

from fedinet.db import follows as follows_db
from fedinet.db import lists as lists_db
from fedinet.db.lists import AccountList
from fedinet.db.types import Connection
from fedinet.errors import NotFound, ValidationError
from fedinet.models import Actor

__all__ = [
    "REPLIES_POLICIES",
    "add_accounts",
    "create_list",
    "own_list",
    "remove_accounts",
    "update_list",
]

REPLIES_POLICIES: Final = ("followed", "list", "none")
MAX_TITLE: Final = 256


def _title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError("Validation failed: Title can't be blank", field="title")
    if len(title) > MAX_TITLE:
        raise ValidationError("Validation failed: Title is too long", field="title")
    return title


def _policy(policy: str) -> str:
    if policy not in REPLIES_POLICIES:
        raise ValidationError(
            "Validation failed: Replies policy is not included in the list",
            field="replies_policy",
        )
    return policy


async def own_list(conn: Connection, owner: Actor, list_id: int) -> AccountList:
    found = await lists_db.get_list(conn, owner.id, list_id)
    if found is None:
        raise NotFound("Record not found")
    return found


async def create_list(
    conn: Connection,
    owner: Actor,
    *,
    title: str | None,
    replies_policy: str = "list",
    exclusive: bool = False,
) -> AccountList:
    return await lists_db.insert_list(
        conn,
        owner.id,
        title=_title(title),
        replies_policy=_policy(replies_policy),
        exclusive=exclusive,
    )


async def update_list(
    conn: Connection,
    owner: Actor,
    list_id: int,
    *,
    title: str | None = None,
    replies_policy: str | None = None,
    exclusive: bool | None = None,
) -> AccountList:
    found = await own_list(conn, owner, list_id)
    return await lists_db.update_list(
        conn,
        found.id,
        title=found.title if title is None else _title(title),
        replies_policy=found.replies_policy if replies_policy is None else _policy(replies_policy),
        exclusive=found.exclusive if exclusive is None else exclusive,
    )


async def add_accounts(
    conn: Connection, owner: Actor, list_id: int, account_ids: list[int]
) -> None:
    """Only accounts the owner follows (or asked to follow) may be added, as in Mastodon."""
    found = await own_list(conn, owner, list_id)
    if not account_ids:
        raise ValidationError("account_ids can't be blank", field="account_ids")
    for account_id in account_ids:
        follow = await follows_db.get_follow(conn, owner.id, account_id)
        if follow is None:
            raise NotFound("Record not found")
    await lists_db.add_list_accounts(conn, found.id, account_ids)


async def remove_accounts(
    conn: Connection, owner: Actor, list_id: int, account_ids: list[int]
) -> None:
    found = await own_list(conn, owner, list_id)
    await lists_db.remove_list_accounts(conn, found.id, account_ids)
