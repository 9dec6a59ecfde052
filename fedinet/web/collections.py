"""ActivityPub collections and objects of local members: outbox, followers, following,
featured, each status at its id and each authored activity at its id."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.context import context
from fedinet.db import actors as actors_db
from fedinet.db import bookmarks as bookmarks_db
from fedinet.db import follows as follows_db
from fedinet.db import statuses as statuses_db
from fedinet.db.deliveries import get_activity_by_uri, list_outbox_activities
from fedinet.errors import Gone, NotFound
from fedinet.federation.authorized import verify_signed_fetch
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services.statuses import note_for, visible_to
from fedinet.web.signed import inbound_request, require_signed_fetch

__all__ = ["routes"]

ACTIVITY_JSON = "application/activity+json; charset=utf-8"
PAGE_SIZE = 20


def _json(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=ACTIVITY_JSON)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _member(request: Request) -> Actor:
    runtime = _runtime(request)
    actor = await actors_db.get_local_actor_by_username(
        runtime.pool, request.path_params["username"]
    )
    if actor is None:
        raise NotFound("there is no such member here")
    if actor.is_gone:
        raise Gone("this account is gone")
    return actor


def _page_number(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if raw is None:
        return None
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


async def _uri_collection(request: Request, which: str) -> Response:
    await require_signed_fetch(request)
    actor = await _member(request)
    runtime = _runtime(request)
    collection_id = actor.followers_uri if which == "followers" else actor.following_uri
    assert collection_id is not None
    count = (
        await follows_db.count_followers(runtime.pool, actor.id)
        if which == "followers"
        else await follows_db.count_following(runtime.pool, actor.id)
    )
    page = _page_number(request)
    if actor.hide_collections:
        # The member hides the list: the count stays public, the items do not.
        return _json(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": collection_id,
                "type": "OrderedCollection",
                "totalItems": count,
            }
        )
    if page is None:
        return _json(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": collection_id,
                "type": "OrderedCollection",
                "totalItems": count,
                "first": f"{collection_id}?page=1",
            }
        )
    lister = follows_db.list_followers if which == "followers" else follows_db.list_following
    items = await lister(runtime.pool, actor.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    body: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "totalItems": count,
        "partOf": collection_id,
        "orderedItems": items,
    }
    if page * PAGE_SIZE < count:
        body["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        body["prev"] = f"{collection_id}?page={page - 1}"
    return _json(body)


async def followers(request: Request) -> Response:
    return await _uri_collection(request, "followers")


async def following(request: Request) -> Response:
    return await _uri_collection(request, "following")


async def outbox(request: Request) -> Response:
    await require_signed_fetch(request)
    actor = await _member(request)
    runtime = _runtime(request)
    assert actor.outbox_uri is not None
    total = await statuses_db.count_statuses(runtime.pool, actor.id)
    if request.query_params.get("page") is None:
        return _json(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": actor.outbox_uri,
                "type": "OrderedCollection",
                "totalItems": total,
                "first": f"{actor.outbox_uri}?page=true",
                "last": f"{actor.outbox_uri}?min_id=0&page=true",
            }
        )
    raw_max = request.query_params.get("max_id")
    max_id = int(raw_max) if raw_max and raw_max.isdigit() else None
    activities = await list_outbox_activities(
        runtime.pool, actor.id, limit=PAGE_SIZE, max_id=max_id
    )
    body: dict[str, Any] = {
        "@context": context(),
        "id": f"{actor.outbox_uri}?{request.url.query}",
        "type": "OrderedCollectionPage",
        "partOf": actor.outbox_uri,
        "orderedItems": [a.body for a in activities],
    }
    for item in body["orderedItems"]:
        item.pop("@context", None)
    if len(activities) == PAGE_SIZE:
        body["next"] = f"{actor.outbox_uri}?max_id={activities[-1].id}&page=true"
    return _json(body)


async def featured(request: Request) -> Response:
    """The member's pinned statuses (public and unlisted ones only: the collection is
    public), as embedded Notes, the latest pinned first."""
    await require_signed_fetch(request)
    actor = await _member(request)
    assert actor.featured_uri is not None
    runtime = _runtime(request)
    async with runtime.pool.acquire() as conn:
        pinned = await bookmarks_db.list_pinned(conn, actor.id)
        notes = [
            await note_for(conn, runtime.settings, status, actor)
            for status in pinned
            if status.visibility in ("public", "unlisted")
        ]
    return _json(
        {
            "@context": context(),
            "id": actor.featured_uri,
            "type": "OrderedCollection",
            "totalItems": len(notes),
            "orderedItems": notes,
        }
    )


async def featured_tags(request: Request) -> Response:
    await require_signed_fetch(request)
    actor = await _member(request)
    return _json(
        {
            "@context": context(),
            "id": f"{actor.uri}/collections/tags",
            "type": "Collection",
            "totalItems": 0,
            "items": [],
        }
    )


async def _viewer(request: Request) -> Actor | None:
    """The signed requester, when the request is signed (required under authorized fetch)."""
    runtime = _runtime(request)
    if runtime.settings.authorized_fetch:
        return await require_signed_fetch(request)
    inbound = inbound_request(request, runtime)
    if inbound.header("signature") is None and inbound.header("signature-input") is None:
        return None
    return await verify_signed_fetch(runtime, inbound)


async def status_object(request: Request) -> Response:
    actor = await _member(request)
    runtime = _runtime(request)
    raw_id = str(request.path_params["status_id"])  # /@user/{id} converts it already
    status = (
        await statuses_db.get_status_by_id(runtime.pool, int(raw_id))
        if raw_id.isdigit() and int(raw_id) < 2**63
        else None
    )
    if status is None or status.actor_id != actor.id or status.reblog_of_id is not None:
        raise NotFound("there is no such status")
    if status.deleted_at is not None:
        return _json(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": status.uri,
                "type": "Tombstone",
            },
            status_code=410,
        )
    viewer = await _viewer(request)
    async with runtime.pool.acquire() as conn:
        if not await visible_to(conn, status, viewer):
            raise NotFound("there is no such status")
        inbox = viewer.shared_inbox_uri or viewer.inbox_uri if viewer is not None else None
        if viewer is not None and not viewer.is_local and inbox:
            # That server now holds the status: it must hear of edits and deletion.
            await statuses_db.add_status_audience(conn, status.id, inbox)
        note = await note_for(conn, runtime.settings, status, actor)
    return _json({"@context": context(), **note})


async def activity_object(request: Request) -> Response:
    runtime = _runtime(request)
    uri = f"{runtime.settings.url}{request.url.path}"
    activity = await get_activity_by_uri(runtime.pool, uri)
    if activity is None:
        raise NotFound("there is no such activity")
    if activity.visibility not in ("public", "unlisted"):
        viewer = await _viewer(request)
        recipients = {*(_as_list(activity.body.get("to"))), *(_as_list(activity.body.get("cc")))}
        # a Follow, Accept or Reject is for the two parties: its object's side too
        inner = activity.body.get("object")
        recipients.add(inner if isinstance(inner, str) else None)
        if isinstance(inner, dict):
            recipients.add(inner.get("actor"))
        if viewer is None or (viewer.id != activity.actor_id and viewer.uri not in recipients):
            raise NotFound("there is no such activity")
    elif runtime.settings.authorized_fetch:
        await require_signed_fetch(request)
    return _json(activity.body)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


routes: list[BaseRoute] = [
    Route("/users/{username}/outbox", outbox, methods=["GET", "HEAD"]),
    Route("/users/{username}/followers", followers, methods=["GET", "HEAD"]),
    Route("/users/{username}/following", following, methods=["GET", "HEAD"]),
    Route("/users/{username}/collections/featured", featured, methods=["GET", "HEAD"]),
    Route("/users/{username}/collections/tags", featured_tags, methods=["GET", "HEAD"]),
    Route("/users/{username}/statuses/{status_id}", status_object, methods=["GET", "HEAD"]),
    # the status's ``url`` (what clients show and people paste into search): the same
    # object, so that another server resolving it by URL finds it (there is no HTML page)
    # digits only, so that the pages' /@{acct}/follow and the like stay theirs
    Route("/@{username}/{status_id:int}", status_object, methods=["GET", "HEAD"]),
    Route("/activities/{activity_id}", activity_object, methods=["GET", "HEAD"]),
    Route(
        "/users/{username}/statuses/{status_id}/activity",
        activity_object,
        methods=["GET", "HEAD"],
    ),
]
