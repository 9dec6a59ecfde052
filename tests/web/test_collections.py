"""Followers and following collections: counts public, items as the member chooses."""

from __future__ import annotations

import httpx

from fedinet.db import follows as follows_db
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.services.profile import ProfileChange, update_profile
from fedinet.services.statuses import post_status

AP = {"Accept": "application/activity+json"}


async def test_followers_listed_unless_hidden(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        ana = await create_member(conn, runtime.settings, username="ana", email="a@example.org")
        ben = await create_member(conn, runtime.settings, username="ben", email="b@example.org")
        await follows_db.insert_follow(
            conn,
            uri="https://fedinet.test/f/1",
            follower_id=ben.actor.id,
            followee_id=ana.actor.id,
            accepted=True,
        )
    collection = (await client.get("/users/ana/followers", headers=AP)).json()
    assert collection["totalItems"] == 1 and collection["first"].endswith("?page=1")
    page = (await client.get("/users/ana/followers?page=1", headers=AP)).json()
    assert page["orderedItems"] == [ben.actor.uri]

    async with runtime.pool.acquire() as conn:
        await update_profile(
            conn, runtime.settings, ana.actor, ana.user, ProfileChange(hide_collections=True)
        )
    hidden = (await client.get("/users/ana/followers", headers=AP)).json()
    assert hidden["totalItems"] == 1 and "first" not in hidden
    hidden_page = (await client.get("/users/ana/followers?page=1", headers=AP)).json()
    assert "orderedItems" not in hidden_page
    following = (await client.get("/users/ben/following?page=1", headers=AP)).json()
    assert following["orderedItems"] == [ana.actor.uri]  # ben did not hide his


async def _nobody(acct: str) -> None:
    return None


async def test_a_status_url_serves_the_same_object_as_its_id(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Clients show a status's ``url``; other servers resolve what people paste."""
    async with runtime.pool.acquire() as conn:
        ana = await create_member(conn, runtime.settings, username="ana", email="a@example.org")
        public = await post_status(
            conn, runtime.settings, ana.actor, text="Hello there", resolve=_nobody
        )
        private = await post_status(
            conn,
            runtime.settings,
            ana.actor,
            text="Only for followers",
            resolve=_nobody,
            visibility="private",
        )
    assert public.url and public.url != public.uri
    by_url = await client.get(public.url.removeprefix(runtime.settings.url), headers=AP)
    by_id = await client.get(public.uri.removeprefix(runtime.settings.url), headers=AP)
    assert by_url.status_code == 200 and by_url.json() == by_id.json()
    assert by_url.json()["id"] == public.uri

    assert private.url
    hidden = await client.get(private.url.removeprefix(runtime.settings.url), headers=AP)
    assert hidden.status_code == 404
    assert (await client.get(f"/@ben/{public.id}", headers=AP)).status_code == 404
