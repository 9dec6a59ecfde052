"""Setting the scene for the admin services' tests: members, remote actors, follows,
statuses and deliveries, written through fedinet's own services and queries."""

from __future__ import annotations

import itertools

from fedinet.ap.actors import ap_to_actor
from fedinet.db import follows as follows_db
from fedinet.db import statuses as statuses_db
from fedinet.federation.actors import store_remote_actor
from fedinet.models import Actor, Status
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.services.outbox import publish
from tests.helpers.remote import RemoteAccount

__all__ = ["follow", "member", "queue_delivery", "remote", "remote_status"]

_serial = itertools.count(1)


async def member(runtime: Runtime, name: str, *, password: str | None = None) -> Actor:
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, runtime.settings, username=name, email=f"{name}@example.org", password=password
        )
    return created.actor


async def remote(runtime: Runtime, name: str, base_url: str = "https://remote.example") -> Actor:
    account = RemoteAccount(name, base_url)
    return await store_remote_actor(
        runtime, ap_to_actor(account.document(), fetched_from=account.uri)
    )


async def follow(runtime: Runtime, follower: Actor, followee: Actor) -> None:
    await follows_db.insert_follow(
        runtime.pool,
        uri=f"https://x.example/follows/{next(_serial)}",
        follower_id=follower.id,
        followee_id=followee.id,
        accepted=True,
    )


async def remote_status(runtime: Runtime, author: Actor, **values: object) -> Status:
    return await statuses_db.insert_status(
        runtime.pool,
        uri=f"{author.uri}/statuses/{next(_serial)}",
        actor_id=author.id,
        is_local=author.is_local,
        visibility="public",
        content="<p>hello</p>",
        **values,
    )


async def queue_delivery(runtime: Runtime, author: Actor, inbox: str) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        await publish(
            conn,
            runtime.settings,
            author,
            lambda uri: {"id": uri, "type": "Create", "actor": author.uri},
            object_uri=None,
            inboxes=[inbox],
        )
