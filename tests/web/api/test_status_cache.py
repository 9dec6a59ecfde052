"""The home timeline serves status entities rendered earlier when the database says they
are unchanged (fedinet/web/api/status_cache.py), and the token it read earlier when the
page's own statement says that is unchanged (fedinet/web/api/auth.py).

Every check compares the endpoint's answer with the page rendered from scratch
(``render.statuses_json``), after each kind of write that changes what a page shows.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import oauth as oauth_db
from fedinet.db import timelines as timelines_db
from fedinet.runtime import Runtime
from fedinet.services.oauth import secret_digest
from fedinet.web.api.render import statuses_json
from fedinet.web.api.status_cache import StatusCache, render_page
from tests.web.api.actions import Person, accept, follow, person, post, token_with


async def _from_scratch(runtime: Runtime, settings: Settings, who: Person) -> list[Any]:
    async with runtime.pool.acquire() as conn:
        viewer = await actors_db.get_actor_by_id(conn, who.member.actor.id)
        assert viewer is not None
        rows = await timelines_db.home_timeline(conn, viewer.id, limit=20)
        return await statuses_json(conn, settings, rows, viewer, context="home")


async def _home(client: httpx.AsyncClient, who: Person, **params: Any) -> list[Any]:
    response = await client.get("/api/v1/timelines/home", headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: list[Any] = response.json()
    return body


async def _same(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, who: Person
) -> list[Any]:
    """The page, twice (the second from what the first left in the cache), each equal
    to the page rendered from scratch."""
    expected = await _from_scratch(runtime, settings, who)
    assert await _home(client, who) == expected
    assert await _home(client, who) == expected
    return expected


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_cached_entities_follow_every_write(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    reader = await person(client, runtime, settings, "reader")
    ana = await person(client, runtime, settings, "ana")
    ben = await person(client, runtime, settings, "ben")
    fan = await person(client, runtime, settings, "fan")
    followed = [(target, await follow(client, reader, target)) for target in (ana, ben)]
    await follow(client, ana, reader)
    for target, relationship in followed:
        if relationship["requested"]:
            await accept(client, target, reader)

    first = await post(client, ana, "Seedlings are up #garden @reader", visibility="public")
    second = await post(client, ben, "Marigolds next to the tomatoes", visibility="public")
    own = await post(client, reader, "My own note, pinned", visibility="public")
    reply = await post(client, ben, "@ana how deep?", in_reply_to_id=first["id"])
    boost = await _ok(
        await client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=ben.headers)
    )
    page = await _same(client, runtime, settings, reader)
    assert {s["id"] for s in page} >= {first["id"], second["id"], own["id"], boost["id"]}
    assert reply["id"] in {s["id"] for s in page}

    # counts move up and back down: a count is in the key, not a row version
    await _ok(await client.post(f"/api/v1/statuses/{second['id']}/favourite", headers=fan.headers))
    page = await _same(client, runtime, settings, reader)
    assert next(s for s in page if s["id"] == second["id"])["favourites_count"] == 1
    await _ok(
        await client.post(f"/api/v1/statuses/{second['id']}/unfavourite", headers=fan.headers)
    )
    page = await _same(client, runtime, settings, reader)
    assert next(s for s in page if s["id"] == second["id"])["favourites_count"] == 0

    # the boosted status inside a boost
    await _ok(await client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=fan.headers))
    page = await _same(client, runtime, settings, reader)
    shown = next(s for s in page if s["id"] == boost["id"])
    assert shown["reblog"]["favourites_count"] == 1

    # the viewer's own flags, never cached
    await _ok(
        await client.post(f"/api/v1/statuses/{second['id']}/favourite", headers=reader.headers)
    )
    await _ok(await client.post(f"/api/v1/statuses/{first['id']}/bookmark", headers=reader.headers))
    await _ok(await client.post(f"/api/v1/statuses/{own['id']}/pin", headers=reader.headers))
    page = await _same(client, runtime, settings, reader)
    assert next(s for s in page if s["id"] == second["id"])["favourited"] is True
    assert next(s for s in page if s["id"] == own["id"])["pinned"] is True
    assert next(s for s in page if s["id"] == boost["id"])["reblog"]["bookmarked"] is True
    # ... and another viewer of the same statuses sees their own
    page_of_ana = await _home(client, ana)
    assert all(not s["favourited"] and not s["bookmarked"] for s in page_of_ana)

    # the author's profile and counters
    await _ok(
        await client.patch(
            "/api/v1/accounts/update_credentials",
            headers=ana.headers,
            data={"display_name": "Ana of the allotment"},
        )
    )
    page = await _same(client, runtime, settings, reader)
    assert next(s for s in page if s["id"] == first["id"])["account"]["display_name"] == (
        "Ana of the allotment"
    )
    await post(client, ben, "Another one", visibility="public")
    await _same(client, runtime, settings, reader)

    # an edit, then a deletion
    await _ok(
        await client.put(
            f"/api/v1/statuses/{second['id']}",
            headers=ben.headers,
            data={"status": "Marigolds and basil next to the tomatoes"},
        )
    )
    page = await _same(client, runtime, settings, reader)
    edited = next(s for s in page if s["id"] == second["id"])
    assert "basil" in edited["content"] and edited["edited_at"] is not None
    deleted = await client.delete(f"/api/v1/statuses/{reply['id']}", headers=ben.headers)
    assert deleted.status_code == 200
    page = await _same(client, runtime, settings, reader)
    assert reply["id"] not in {s["id"] for s in page}
    first_now = next(s for s in page if s["id"] == first["id"])
    assert first_now["replies_count"] == 0

    # filters: the page is rendered the ordinary way, with what each status trips
    made = await client.post(
        "/api/v2/filters",
        headers=reader.headers,
        data={
            "title": "Plants",
            "context[]": "home",
            "filter_action": "warn",
            "keywords_attributes[][keyword]": "marigolds",
        },
    )
    assert made.status_code == 200, made.text
    page = await _same(client, runtime, settings, reader)
    assert next(s for s in page if s["id"] == second["id"])["filtered"]

    # pages below and above a cursor, and an empty one
    older = await _home(client, reader, max_id=first["id"])
    assert all(int(s["id"]) < int(first["id"]) for s in older)
    newer = await _home(client, reader, min_id=first["id"])
    assert all(int(s["id"]) > int(first["id"]) for s in newer)
    assert await _home(client, reader, since_id=page[0]["id"]) == []


async def test_a_remembered_token_is_checked_on_every_page(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    """The page's statement reads the token's version: a token revoked, or a member
    suspended, after the process remembered them, is refused at once."""
    reader = await person(client, runtime, settings, "reader")
    other = await person(client, runtime, settings, "other")
    for who in (reader, other):
        await post(client, who, f"hello from {who.member.actor.username}", visibility="public")
        assert len(await _home(client, who)) == 1
        assert len(await _home(client, who)) == 1  # remembered now

    async with runtime.pool.acquire() as conn:
        found = await oauth_db.get_token_with_bearer(conn, secret_digest(reader.token))
        assert found is not None
        page = await timelines_db.home_page(
            conn, reader.member.actor.id, limit=20, token_id=found.token.id
        )
        assert page.credentials_version == found.version  # the two queries agree

    await runtime.pool.execute(
        "UPDATE actors SET suspended_at = now() WHERE id = $1", reader.member.actor.id
    )
    response = await client.get("/api/v1/timelines/home", headers=reader.headers)
    assert response.status_code == 403
    assert response.json()["error"] == "Your login is currently disabled"
    await runtime.pool.execute(
        "UPDATE actors SET suspended_at = NULL WHERE id = $1", reader.member.actor.id
    )
    assert len(await _home(client, reader)) == 1

    await runtime.pool.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE token_hash = $1",
        secret_digest(reader.token),
    )
    response = await client.get("/api/v1/timelines/home", headers=reader.headers)
    assert response.status_code == 401
    assert "error" in response.json()
    # someone else's remembered token is unaffected
    assert len(await _home(client, other)) == 1
    # and a token without the scope is refused as before
    headers = await token_with(client, other, "write")
    for _ in range(2):
        refused = await client.get("/api/v1/timelines/home", headers=headers)
        assert refused.status_code == 403


async def test_an_empty_page_still_checks_and_keeps_the_token(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    """A poll with nothing new has no row to carry the token's version: it is read on
    its own, and the token stays remembered (or is refused once revoked)."""
    quiet = await person(client, runtime, settings, "quiet")
    remembered = client._transport.app.state  # type: ignore[attr-defined]
    key = secret_digest(quiet.token)
    for _ in range(2):  # the first use records the token (a write), the next remembers it
        assert await _home(client, quiet) == []
    first = remembered.remembered_credentials[key]
    for _ in range(2):  # not looked up again: the same credentials, checked
        assert await _home(client, quiet) == []
        assert remembered.remembered_credentials[key] is first
    await runtime.pool.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE token_hash = $1",
        secret_digest(quiet.token),
    )
    response = await client.get("/api/v1/timelines/home", headers=quiet.headers)
    assert response.status_code == 401


async def test_a_status_deleted_after_the_page_was_read_is_left_out(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    """Between the page's statement and rendering what the cache lacks, a status may be
    deleted: it is left out, as a page read a moment later would."""
    reader = await person(client, runtime, settings, "reader")
    ana = await person(client, runtime, settings, "ana")
    if (await follow(client, reader, ana))["requested"]:
        await accept(client, ana, reader)
    kept = await post(client, ana, "this one stays", visibility="public")
    gone = await post(client, ana, "this one goes", visibility="public")
    async with runtime.pool.acquire() as conn:
        viewer = await actors_db.get_actor_by_id(conn, reader.member.actor.id)
        assert viewer is not None
        page = await timelines_db.home_page(conn, viewer.id, limit=20)
        assert [e.status.id for e in page.entries] == [int(gone["id"]), int(kept["id"])]
        await conn.execute("UPDATE statuses SET deleted_at = now() WHERE id = $1", int(gone["id"]))
        body = await render_page(conn, settings, StatusCache(), page, viewer, context="home")
        assert [s["id"] for s in json.loads(body)] == [kept["id"]]
        assert [s.id for s in await timelines_db.home_timeline(conn, viewer.id, limit=20)] == [
            int(kept["id"])
        ]
