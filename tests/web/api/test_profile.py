"""``PATCH /api/v1/accounts/update_credentials`` with avatar and header uploads."""

from __future__ import annotations

import httpx

from fedinet.config import Settings
from tests.services.test_media_probe import mp4
from tests.web.api.conftest import Member, bearer, password_token, register
from tests.web.api.schema import assert_matches
from tests.web.api.test_media import gif, png


async def _token(client: httpx.AsyncClient, member: Member, scope: str = "read write") -> str:
    return await password_token(client, await register(client), member, scope=scope)


async def test_avatar_and_header_upload(
    client: httpx.AsyncClient, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    response = await client.patch(
        "/api/v1/accounts/update_credentials",
        headers=bearer(token),
        data={"display_name": "Alice A"},
        files={
            "avatar": ("me.png", png(40, 40), "image/png"),
            "header": ("banner.gif", gif(300, 100), "image/gif"),
        },
    )
    assert response.status_code == 200, response.text
    account = response.json()
    assert_matches("CredentialAccount", account)
    assert account["display_name"] == "Alice A"
    assert account["avatar"].startswith(f"{settings.url}/system/media/")
    assert account["avatar"].endswith(".png")
    assert account["avatar_static"] == account["avatar"]
    assert account["header"].endswith(".gif")
    served = await client.get(account["avatar"].removeprefix(settings.url))
    assert served.status_code == 200
    assert served.content == png(40, 40)

    # Other fields leave the images alone; the public account and the actor show them.
    again = await client.patch(
        "/api/v1/accounts/update_credentials", headers=bearer(token), data={"note": "hi"}
    )
    assert again.json()["avatar"] == account["avatar"]
    public = await client.get(f"/api/v1/accounts/{alice.actor.id}")
    assert public.json()["header"] == account["header"]
    actor = await client.get(
        f"/users/{alice.actor.username}", headers={"Accept": "application/activity+json"}
    )
    assert actor.json()["icon"] == {
        "type": "Image",
        "mediaType": "image/png",
        "url": account["avatar"],
    }
    assert actor.json()["image"]["url"] == account["header"]


async def test_bad_avatar_is_422_and_changes_nothing(
    client: httpx.AsyncClient, alice: Member
) -> None:
    token = await _token(client, alice)
    response = await client.patch(
        "/api/v1/accounts/update_credentials",
        headers=bearer(token),
        data={"display_name": "Changed"},
        files={"avatar": ("me.png", b"<?php echo 1; ?>", "image/png")},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "avatar"
    # A video is a fine attachment, but no avatar.
    video = await client.patch(
        "/api/v1/accounts/update_credentials",
        headers=bearer(token),
        files={"avatar": ("me.mp4", mp4(), "video/mp4")},
    )
    assert video.status_code == 422
    assert "not a supported image" in video.json()["error"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.json()["display_name"] == ""
    assert me.json()["avatar"].endswith("/avatars/original/missing.png")


async def test_avatar_upload_needs_write_accounts(client: httpx.AsyncClient, alice: Member) -> None:
    token = await _token(client, alice, scope="read")
    response = await client.patch(
        "/api/v1/accounts/update_credentials",
        headers=bearer(token),
        files={"avatar": ("me.png", png(), "image/png")},
    )
    assert response.status_code == 403
    anonymous = await client.patch(
        "/api/v1/accounts/update_credentials", files={"avatar": ("me.png", png(), "image/png")}
    )
    assert anonymous.status_code == 401
