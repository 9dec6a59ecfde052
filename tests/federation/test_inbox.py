"""Inbox verification against a real signed Mastodon delivery, with the clock set to it."""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fedinet.ap.actors import ap_to_actor
from fedinet.crypto.digest import make_digest
from fedinet.errors import ActorMismatch, DigestMismatch, SignatureExpired, SignatureInvalid
from fedinet.federation.actors import ActorResolver, store_remote_actor
from fedinet.federation.inbox import InboundRequest, check_ownership, verify_activity
from fedinet.models import Actor, ActorKey
from fedinet.runtime import Runtime

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def mastodon_delivery(body: bytes | None = None, **header_changes: str) -> InboundRequest:
    capture = load("mastodon_accept_follow_request.json")
    raw = json.dumps(capture["body"], separators=(",", ":")).encode()
    headers = [(name, header_changes.pop(name, value)) for name, value in capture["headers"]]
    return InboundRequest(
        method=capture["method"],
        url=capture["url"],
        path_with_query=capture["path"],
        headers=tuple(headers),
        body=raw if body is None else body,
    )


@pytest.fixture
async def resolver(runtime: Runtime) -> ActorResolver:
    """The sender's actor, stored as if fetched from tech.lgbt (no network here)."""
    document = load("mastodon_actor_rarely_typical.json")
    await store_remote_actor(
        runtime, ap_to_actor(document, fetched_from="https://tech.lgbt/users/rarely_typical")
    )
    return ActorResolver(runtime)


async def verify(
    resolver: ActorResolver,
    request: InboundRequest,
    delta: timedelta = timedelta(),
    refreshes: list[str] | None = None,
) -> tuple[dict[str, Any], Any]:
    date = parsedate_to_datetime(request.header("date") or "")

    async def resolve(key_id: str, refresh: bool) -> tuple[Actor, ActorKey]:
        # No network here: a refresh finds the same key, as tech.lgbt would serve it.
        if refresh and refreshes is not None:
            refreshes.append(key_id)
        return await resolver.key_for(key_id)

    return await verify_activity(request, resolve, now=date + delta)


async def test_real_mastodon_delivery_verifies(resolver: ActorResolver) -> None:
    refreshes: list[str] = []
    activity, signed_by = await verify(resolver, mastodon_delivery(), refreshes=refreshes)
    assert refreshes == [], "a valid signature must not refetch the key"
    assert activity["type"] == "Accept"
    assert signed_by.actor.uri == "https://tech.lgbt/users/rarely_typical"
    assert signed_by.key.key_id == "https://tech.lgbt/users/rarely_typical#main-key"
    assert signed_by.scheme == "cavage"


async def test_real_delivery_an_hour_later_still_verifies(resolver: ActorResolver) -> None:
    await verify(resolver, mastodon_delivery(), timedelta(hours=1))


async def test_real_delivery_replayed_next_day_is_refused(resolver: ActorResolver) -> None:
    with pytest.raises(SignatureExpired):
        await verify(resolver, mastodon_delivery(), timedelta(hours=13))


async def test_real_delivery_with_tampered_body_is_refused(resolver: ActorResolver) -> None:
    request = mastodon_delivery()
    with pytest.raises(DigestMismatch):
        await verify(resolver, mastodon_delivery(body=request.body.replace(b"Accept", b"Reject")))


async def test_real_delivery_with_tampered_digest_header_is_refused(
    resolver: ActorResolver,
) -> None:
    request = mastodon_delivery()
    other = request.body.replace(b"Accept", b"Reject")
    refreshes: list[str] = []
    with pytest.raises(SignatureInvalid):
        await verify(
            resolver, mastodon_delivery(body=other, digest=make_digest(other)), refreshes=refreshes
        )
    # A failure with a cached key refetches it once (key rotation), then gives up.
    assert refreshes == ["https://tech.lgbt/users/rarely_typical#main-key"]


async def test_real_delivery_to_another_inbox_is_refused(resolver: ActorResolver) -> None:
    capture = mastodon_delivery()
    moved = InboundRequest(
        method=capture.method,
        url=capture.url.replace("rarely-typical", "someone-else"),
        path_with_query=capture.path_with_query.replace("rarely-typical", "someone-else"),
        headers=capture.headers,
        body=capture.body,
    )
    with pytest.raises(SignatureInvalid):
        await verify(resolver, moved)


async def test_ownership_rule_refuses_another_actor(resolver: ActorResolver) -> None:
    # A forged body is caught by the digest first (above); the ownership rule itself must
    # also refuse an activity whose actor is not the verified signer.
    request = mastodon_delivery()
    activity, signed_by = await verify(resolver, request)
    activity["actor"] = "https://tech.lgbt/users/somebody_else"
    with pytest.raises(ActorMismatch):
        check_ownership(activity, signed_by.actor)
    activity["actor"] = signed_by.actor.uri
    activity["id"] = "https://elsewhere.example/activities/1"
    with pytest.raises(ActorMismatch):
        check_ownership(activity, signed_by.actor)


@pytest.mark.parametrize(
    ("actor", "activity_id", "same"),
    [
        ("https://a.example/users/x", "https://a.example/activities/1", True),
        ("https://A.Example/users/x", "https://a.example/activities/1", True),
        ("https://a.example/users/x", "https://A.EXAMPLE/activities/1", True),
        ("https://a.example/users/x", "https://a.example#frag", True),
        ("https://a.example:8443/users/x", "https://a.example:8443/activities/1", True),
        ("https://a.example/users/x", "https://a.example.evil/activities/1", False),
        ("https://a.example/users/x", "https://a.example:444/activities/1", False),
        ("https://a.example/users/x", "https://a.examplex/1", False),
        ("https://a.example/users/x", "https://evil.example/a.example/1", False),
        ("https://a.example/users/x", "https://evil@a.example/1", False),
        ("https://a.example/users/x", "/activities/1", False),
        ("https://a.example/users/x", "urn:uuid:1", False),
        ("http://a.example/users/x", "https://a.example/activities/1", True),
    ],
)
def test_the_activity_id_must_be_on_the_actors_host(
    actor: str, activity_id: str, same: bool
) -> None:
    signer: Any = SimpleNamespace(uri=actor)
    activity = {"type": "Create", "actor": actor, "id": activity_id}
    if same:
        check_ownership(activity, signer)
    else:
        with pytest.raises(ActorMismatch):
            check_ownership(activity, signer)
