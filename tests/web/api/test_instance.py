"""``/api/v1/instance`` and ``/api/v2/instance`` and their sub-resources."""

from __future__ import annotations

import httpx
import pytest

from fedinet.db import instance as instance_db
from fedinet.db.actors import upsert_remote_actor
from fedinet.runtime import Runtime
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
