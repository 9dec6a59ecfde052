"""``/api/v1/instance`` and ``/api/v2/instance`` and their sub-resources."""

from __future__ import annotations

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import instance as instance_db
from fedinet.db import statuses as statuses_db
from fedinet.db.actors import upsert_remote_actor
from fedinet.runtime import Runtime
from tests.web.api.actions import person, post
from tests.web.api.conftest import Member
from tests.web.api.schema import assert_matches


async def test_v1_instance(client: httpx.AsyncClient, alice: Member) -> None:
    response = await client.get("/api/v1/instance")
    assert response.status_code == 200
    body = response.json()
    assert_matches("V1Instance", body)
    assert body["uri"] == "fedinet.test"
    assert body["version"] == "4.3.0 (compatible; fedinet 0.1.0)"
    assert body["configuration"]["statuses"]["max_characters"] == 500
    assert body["stats"]["user_count"] == 1
    assert body["registrations"] is True
    assert body["contact_account"]["username"] == "alice"
    assert_matches("Account", body["contact_account"])


async def test_v2_instance(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/instance")
    assert response.status_code == 200
    body = response.json()
    assert_matches("Instance", body)
    assert body["domain"] == "fedinet.test"
    assert body["api_versions"] == {"mastodon": 2}
    assert body["version"].startswith("4.3.0 ")
    assert body["registrations"]["enabled"] is True
    assert body["contact"] == {"email": "", "account": None}
    assert body["rules"] == []
    assert body["configuration"]["urls"]["streaming"] == "wss://fedinet.test"


async def test_trailing_slash_is_served_without_redirect(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/instance/", "/api/v2/instance/", "/api/v1/instance/rules/"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "location" not in response.headers


@pytest.mark.parametrize(
    ("mode", "enabled", "approval"),
    [
        ("open", True, False),
        ("approved", True, True),
        ("closed", False, False),
        ("none", False, False),
    ],
)
async def test_registrations_follow_the_setting(
    client: httpx.AsyncClient, runtime: Runtime, mode: str, enabled: bool, approval: bool
) -> None:
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", mode)
    v1 = (await client.get("/api/v1/instance")).json()
    v2 = (await client.get("/api/v2/instance")).json()
    assert (v1["registrations"], v1["approval_required"]) == (enabled, approval)
    assert (v2["registrations"]["enabled"], v2["registrations"]["approval_required"]) == (
        enabled,
        approval,
    )


async def test_rules_and_texts_from_settings(client: httpx.AsyncClient, runtime: Runtime) -> None:
    db = runtime.pool
    await instance_db.set_instance_setting(
        db, "rules", ["Be kind", {"text": "No spam", "hint": "Ads included"}, 3, ""]
    )
    await instance_db.set_instance_setting(db, "title", "Reasoned")
    await instance_db.set_instance_setting(db, "contact_email", "admin@fedinet.test")
    expected = [
        {"id": "1", "text": "Be kind", "hint": ""},
        {"id": "2", "text": "No spam", "hint": "Ads included"},
    ]
    rules = (await client.get("/api/v1/instance/rules")).json()
    assert rules == expected
    for rule in rules:
        assert_matches("Rule", rule)
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["rules"] == expected
    assert v2["title"] == "Reasoned"
    assert v2["contact"]["email"] == "admin@fedinet.test"


async def test_peers_lists_known_remote_domains(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for uri, username, domain in [
        ("https://b.example/users/x", "x", "b.example"),
        ("https://a.example/users/y", "y", "a.example"),
        ("https://a.example/users/z", "z", "a.example"),
        ("https://bad.example/users/w", "w", "bad.example"),
    ]:
        await upsert_remote_actor(runtime.pool, uri=uri, username=username, domain=domain)
    await runtime.pool.execute("INSERT INTO domain_blocks (domain) VALUES ('bad.example')")
    assert (await client.get("/api/v1/instance/peers")).json() == ["a.example", "b.example"]
    assert (await client.get("/api/v1/instance")).json()["stats"]["domain_count"] == 2


async def test_activity_has_twelve_weeks(client: httpx.AsyncClient, alice: Member) -> None:
    weeks = (await client.get("/api/v1/instance/activity")).json()
    assert len(weeks) == 12
    assert all(set(w) == {"week", "statuses", "logins", "registrations"} for w in weeks)
    assert all(isinstance(v, str) for w in weeks for v in w.values())
    starts = [int(w["week"]) for w in weeks]
    assert starts == sorted(starts, reverse=True)
    assert all(b - a == 7 * 86400 for a, b in zip(starts[1:], starts[:-1], strict=True))
    assert weeks[0]["registrations"] == "1"


async def test_default_images_are_pngs(client: httpx.AsyncClient) -> None:
    for path in (
        "/avatars/original/missing.png",
        "/headers/original/missing.png",
        "/instance/thumbnail.png",
    ):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_status_counts_follow_posts_boosts_and_deletes(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    """``stats.status_count`` and this week's ``statuses`` (both read from the index of
    local statuses, migrations/0014) count local statuses, direct ones included, boosts
    and remote statuses not; a deleted status leaves the count, not the week's activity."""

    async def counted() -> tuple[int, str]:
        v1 = (await client.get("/api/v1/instance")).json()
        weeks = (await client.get("/api/v1/instance/activity")).json()
        return v1["stats"]["status_count"], weeks[0]["statuses"]

    assert await counted() == (0, "0")
    ana = await person(client, runtime, settings, "ana")
    first = await post(client, ana, "one")
    await post(client, ana, "two", visibility="direct")
    assert await counted() == (2, "2")
    boosted = await client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=ana.headers)
    assert boosted.status_code == 200
    remote = await upsert_remote_actor(
        runtime.pool, uri="https://b.example/users/x", username="x", domain="b.example"
    )
    await statuses_db.insert_status(
        runtime.pool,
        uri="https://b.example/users/x/statuses/1",
        actor_id=remote.id,
        is_local=False,
        visibility="public",
    )
    assert await counted() == (2, "2")
    deleted = await client.delete(f"/api/v1/statuses/{first['id']}", headers=ana.headers)
    assert deleted.status_code == 200
    assert await counted() == (1, "2")
    await post(client, ana, "three")
    assert await counted() == (2, "3")
