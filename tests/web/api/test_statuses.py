"""Statuses through the client API: ownership and validation answers as Mastodon gives them."""

from __future__ import annotations

import httpx

from fedinet.config import Settings
from fedinet.runtime import Runtime
from tests.web.api.conftest import Member, bearer, make_member, password_token, register
from tests.web.api.schema import assert_matches


async def test_someone_elses_status_cannot_be_edited_or_deleted(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    """Mastodon looks the status up among the caller's own: 404, never 403."""
    bob = await make_member(runtime, settings, "bob")
    app = await register(client)
    alice_token = await password_token(client, app, alice)
    bob_token = await password_token(client, app, bob)
    posted = await client.post(
        "/api/v1/statuses", data={"status": "Mine"}, headers=bearer(alice_token)
    )
    assert posted.status_code == 200, posted.text
    path = f"/api/v1/statuses/{posted.json()['id']}"

    deleted = await client.delete(path, headers=bearer(bob_token))
    assert deleted.status_code == 404
    assert_matches("Error", deleted.json())
    edited = await client.put(path, data={"status": "Not mine"}, headers=bearer(bob_token))
    assert edited.status_code == 404

    still = await client.get(path, headers=bearer(alice_token))
    assert still.status_code == 200 and "Mine" in still.json()["content"]
    assert (await client.delete(path, headers=bearer(alice_token))).status_code == 200


async def test_validation_errors_carry_details_per_field(
    client: httpx.AsyncClient, alice: Member
) -> None:
    app = await register(client)
    token = await password_token(client, app, alice)
    too_long = await client.post(
        "/api/v1/statuses", data={"status": "x" * 501}, headers=bearer(token)
    )
    assert too_long.status_code == 422
    body = too_long.json()
    assert_matches("ValidationError", body)
    assert body["error"]
    assert body["details"] == {
        "status": [{"error": "ERR_VALIDATION", "description": body["error"]}]
    }

    bad_page = await client.get(
        "/api/v1/timelines/home", params={"max_id": "not-an-id"}, headers=bearer(token)
    )
    assert bad_page.status_code == 422
    assert_matches("ValidationError", bad_page.json())
