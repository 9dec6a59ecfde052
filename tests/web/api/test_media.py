"""Media uploads: v1/v2 upload, GET/PUT/DELETE, the stored file, attaching to statuses
and federating them as ``Document`` attachments."""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db.deliveries import get_activity_by_uri
from fedinet.errors import ValidationError
from fedinet.runtime import Runtime
from fedinet.services.media import sniff_image
from fedinet.web.api.accounts import placeholder_png
from tests.services.test_media_probe import mp4, webm
from tests.web.api.conftest import (
    Member,
    bearer,
    build_app,
    make_member,
    password_token,
    register,
)
from tests.web.api.schema import assert_matches


def png(width: int = 3, height: int = 2) -> bytes:
    return placeholder_png(width, height, (10, 20, 30))


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x11\x00" * 3
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_vp8x(width: int, height: int) -> bytes:
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    chunk += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + bits.to_bytes(4, "little")
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.mark.parametrize(
    ("data", "content_type", "size"),
    [
        (png(7, 5), "image/png", (7, 5)),
        (gif(640, 480), "image/gif", (640, 480)),
        (jpeg(1024, 768), "image/jpeg", (1024, 768)),
        (webp_vp8x(300, 200), "image/webp", (300, 200)),
        (webp_vp8l(17, 9), "image/webp", (17, 9)),
    ],
)
def test_sniff_image_reads_type_and_size(
    data: bytes, content_type: str, size: tuple[int, int]
) -> None:
    info = sniff_image(data)
    assert (info.content_type, info.width, info.height) == (content_type, *size)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world, not an image",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 8,  # no IHDR
        b"\xff\xd8\xff\xd9",  # JPEG without a frame
        gif(0, 10),
        gif(60000, 60000),  # more pixels than the limit
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    ],
)
def test_sniff_image_refuses(data: bytes) -> None:
    with pytest.raises(ValidationError):
        sniff_image(data)


async def _token(client: httpx.AsyncClient, member: Member, scope: str = "read write") -> str:
    app = await register(client, scopes="read write follow push")
    return await password_token(client, app, member, scope=scope)


async def upload(
    client: httpx.AsyncClient,
    token: str,
    data: bytes,
    *,
    path: str = "/api/v2/media",
    filename: str = "picture.png",
    fields: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        path,
        headers=bearer(token),
        files={"file": (filename, data, "application/octet-stream")},
        data=fields or {},
    )


async def test_upload_v2_get_put_and_file(
    client: httpx.AsyncClient, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    response = await upload(
        client, token, png(4, 2), fields={"description": "a tiny flag", "focus": "0.5,-0.25"}
    )
    assert response.status_code == 200, response.text
    entity: dict[str, Any] = response.json()
    assert_matches("MediaAttachment", entity)
    assert entity["type"] == "image"
    assert entity["description"] == "a tiny flag"
    assert entity["meta"]["original"] == {"width": 4, "height": 2, "size": "4x2", "aspect": 2.0}
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert entity["remote_url"] is None
    assert entity["url"].startswith(f"{settings.url}/system/media/")
    assert entity["url"].endswith(".png")

    # The file is on disk under the data dir and served as it was sent.
    name = entity["url"].rsplit("/", 1)[1]
    assert (settings.data_dir / "media" / name).read_bytes() == png(4, 2)
    served = await client.get(entity["url"].removeprefix(settings.url))
    assert served.status_code == 200
    assert served.content == png(4, 2)
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"

    got = await client.get(f"/api/v1/media/{entity['id']}", headers=bearer(token))
    assert got.status_code == 200
    assert got.json() == entity

    put = await client.put(
        f"/api/v1/media/{entity['id']}",
        headers=bearer(token),
        data={"description": "a flag", "focus": "-1,1"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["description"] == "a flag"
    assert put.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    assert_matches("MediaAttachment", put.json())

    # A file where the endpoint takes none (a custom thumbnail) is a 422 that says why,
    # and the description stays as it was.
    thumbnail = await client.put(
        f"/api/v1/media/{entity['id']}",
        headers=bearer(token),
        data={"description": "lost?"},
        files={"thumbnail": ("t.png", png(), "image/png")},
    )
    assert thumbnail.status_code == 422, thumbnail.text
    assert "form could not be read" in thumbnail.json()["error"]
    got = await client.get(f"/api/v1/media/{entity['id']}", headers=bearer(token))
    assert got.json()["description"] == "a flag"


async def test_upload_v1_sniffs_content_not_name(client: httpx.AsyncClient, alice: Member) -> None:
    token = await _token(client, alice)
    response = await upload(
        client, token, jpeg(20, 10), path="/api/v1/media", filename="looks-like.png"
    )
    assert response.status_code == 200, response.text
    assert response.json()["url"].endswith(".jpg")
    assert response.json()["meta"]["original"]["size"] == "20x10"


async def test_bad_uploads_are_422(
    client: httpx.AsyncClient, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    html = await upload(client, token, b"<html><script>alert(1)</script></html>", filename="x.png")
    assert html.status_code == 422
    assert "not a supported image" in html.json()["error"]
    missing = await client.post(
        "/api/v2/media", headers=bearer(token), files={"other": ("a.png", png(), "image/png")}
    )
    assert missing.status_code == 422
    assert "blank" in missing.json()["error"]
    bad_focus = await upload(client, token, png(), fields={"focus": "2,0"})
    assert bad_focus.status_code == 422
    long_text = await upload(client, token, png(), fields={"description": "x" * 1501})
    assert long_text.status_code == 422
    media_dir = settings.data_dir / "media"
    assert not media_dir.exists() or not any(media_dir.iterdir())


async def test_too_large_upload_is_422(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    big = png(2, 2) + b"\x00" * (settings.media_max_bytes + 10)
    response = await upload(client, token, big)
    assert response.status_code == 422
    assert response.json()["field"] == "file"


async def test_media_scopes_and_ownership(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    read_only = await _token(client, alice, scope="read")
    assert (await upload(client, "not-a-token", png())).status_code == 401
    assert (await client.post("/api/v2/media", files={"file": ("a", png())})).status_code == 401
    refused = await upload(client, read_only, png())
    assert refused.status_code == 403
    created = (await upload(client, token, png())).json()
    assert (
        await client.get(f"/api/v1/media/{created['id']}", headers=bearer(read_only))
    ).status_code == 403

    bob = await make_member(runtime, settings, "bob")
    bob_token = await _token(client, bob)
    for method in ("GET", "PUT", "DELETE"):
        other = await client.request(
            method, f"/api/v1/media/{created['id']}", headers=bearer(bob_token)
        )
        assert other.status_code == 404, method
    assert (await client.get("/api/v1/media/123", headers=bearer(token))).status_code == 404
    assert (await client.get("/api/v1/media/abc", headers=bearer(token))).status_code == 404
    # Someone else's upload cannot be attached.
    stolen = await client.post(
        "/api/v1/statuses",
        headers=bearer(bob_token),
        data={"status": "mine now", "media_ids[]": created["id"]},
    )
    assert stolen.status_code == 422
    assert stolen.json()["field"] == "media_ids"


async def test_media_files_route_refuses_other_paths(client: httpx.AsyncClient) -> None:
    for path in ("/system/media/..%2Fsecret_key", "/system/media/secret_key", "/system/media/1"):
        assert (await client.get(path)).status_code == 404


async def test_attach_to_status_and_federate(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    first = (await upload(client, token, png(4, 2), fields={"description": "one"})).json()
    second = (await upload(client, token, gif(8, 8))).json()
    posted = await client.post(
        "/api/v1/statuses",
        headers=bearer(token),
        json={"status": "", "media_ids": [second["id"], first["id"]]},
    )
    assert posted.status_code == 200, posted.text
    status = posted.json()
    assert_matches("Status", status)
    assert [m["id"] for m in status["media_attachments"]] == [second["id"], first["id"]]
    assert status["media_attachments"][1]["description"] == "one"
    for item in status["media_attachments"]:
        assert_matches("MediaAttachment", item)

    fetched = await client.get(f"/api/v1/statuses/{status['id']}", headers=bearer(token))
    assert fetched.json()["media_attachments"] == status["media_attachments"]

    activity = await get_activity_by_uri(runtime.pool, f"{status['uri']}/activity")
    assert activity is not None
    documents = activity.body["object"]["attachment"]
    assert [d["type"] for d in documents] == ["Document", "Document"]
    assert documents[0]["mediaType"] == "image/gif"
    assert documents[1] == {
        "type": "Document",
        "mediaType": "image/png",
        "url": first["url"],
        "name": "one",
        "width": 4,
        "height": 2,
        "focalPoint": [0.0, 0.0],
    }
    assert activity.body["@context"][1]["focalPoint"]["@id"] == "toot:focalPoint"

    # Attached media cannot be attached again, changed, or deleted.
    again = await client.post(
        "/api/v1/statuses", headers=bearer(token), data={"status": "x", "media_ids[]": first["id"]}
    )
    assert again.status_code == 422
    assert (
        await client.delete(f"/api/v1/media/{first['id']}", headers=bearer(token))
    ).status_code == 422
    for method in ("GET", "PUT"):
        attached = await client.request(
            method, f"/api/v1/media/{first['id']}", headers=bearer(token)
        )
        assert attached.status_code == 404, method


async def test_video_and_audio_uploads(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    """Video and audio are sniffed like images, whatever name they come with, stored as
    sent, served with their type, and federated as Documents of that type."""
    token = await _token(client, alice)
    video = await upload(
        client, token, mp4(), filename="clip.bin", fields={"description": "a clip"}
    )
    assert video.status_code == 200, video.text
    clip: dict[str, Any] = video.json()
    assert_matches("MediaAttachment", clip)
    assert clip["type"] == "video"
    assert clip["url"].endswith(".mp4")
    assert clip["preview_url"] is None
    assert clip["meta"]["original"] == {
        "width": 640,
        "height": 360,
        "size": "640x360",
        "aspect": 640 / 360,
    }
    served = await client.get(clip["url"].removeprefix(settings.url))
    assert served.headers["content-type"] == "video/mp4"
    assert served.content == mp4()
    # Players fetch video in ranges (Safari will not play it otherwise).
    part = await client.get(clip["url"].removeprefix(settings.url), headers={"Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == mp4()[4:12]

    sound = await upload(client, token, webm(0, 0), filename="voice.webm")
    assert sound.status_code == 200, sound.text
    voice = sound.json()
    assert_matches("MediaAttachment", voice)
    assert voice["type"] == "audio"
    assert voice["url"].endswith(".weba")
    assert "original" not in voice["meta"]
    served = await client.get(voice["url"].removeprefix(settings.url))
    assert served.headers["content-type"] == "audio/webm"

    posted = await client.post(
        "/api/v1/statuses",
        headers=bearer(token),
        json={"status": "listen and watch", "media_ids": [clip["id"], voice["id"]]},
    )
    assert posted.status_code == 200, posted.text
    status = posted.json()
    assert_matches("Status", status)
    assert [m["type"] for m in status["media_attachments"]] == ["video", "audio"]
    activity = await get_activity_by_uri(runtime.pool, f"{status['uri']}/activity")
    assert activity is not None
    documents = activity.body["object"]["attachment"]
    assert [(d["type"], d["mediaType"]) for d in documents] == [
        ("Document", "video/mp4"),
        ("Document", "audio/webm"),
    ]
    assert (documents[0]["width"], documents[0]["height"]) == (640, 360)
    assert "width" not in documents[1]  # audio has no picture

    cut = await upload(client, token, mp4()[:40], filename="cut.mp4")  # no movie header
    assert cut.status_code == 422
    assert "cannot be read" in cut.json()["error"]
    mkv = await upload(client, token, webm(doc_type=b"matroska"), filename="film.mkv")
    assert mkv.status_code == 422
    assert "not a supported image" in mkv.json()["error"]


async def test_status_media_limits(client: httpx.AsyncClient, alice: Member) -> None:
    token = await _token(client, alice)
    ids = [(await upload(client, token, png())).json()["id"] for _ in range(5)]
    too_many = await client.post(
        "/api/v1/statuses", headers=bearer(token), json={"status": "hi", "media_ids": ids}
    )
    assert too_many.status_code == 422
    bogus = await client.post(
        "/api/v1/statuses", headers=bearer(token), json={"status": "hi", "media_ids": ["x1"]}
    )
    assert bogus.status_code == 422
    empty = await client.post("/api/v1/statuses", headers=bearer(token), json={"status": ""})
    assert empty.status_code == 422


async def test_delete_unattached_media(
    client: httpx.AsyncClient, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    created = (await upload(client, token, png())).json()
    name = created["url"].rsplit("/", 1)[1]
    deleted = await client.delete(f"/api/v1/media/{created['id']}", headers=bearer(token))
    assert deleted.status_code == 200
    assert deleted.json()["id"] == created["id"]
    assert not (settings.data_dir / "media" / name).exists()
    gone = await client.get(f"/api/v1/media/{created['id']}", headers=bearer(token))
    assert gone.status_code == 404


async def test_instance_reports_the_media_limits(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    v2 = (await client.get("/api/v2/instance")).json()["configuration"]["media_attachments"]
    assert v2["image_size_limit"] == settings.media_max_bytes
    assert v2["video_size_limit"] == settings.media_max_bytes
    assert sorted(v2["supported_mime_types"]) == [
        "audio/flac",
        "audio/mp4",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    ]
    v1 = (await client.get("/api/v1/instance")).json()["configuration"]["media_attachments"]
    assert v1["image_size_limit"] == settings.media_max_bytes


async def test_edit_changes_attachments(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    token = await _token(client, alice)
    first = (await upload(client, token, png())).json()
    second = (await upload(client, token, gif(2, 2))).json()
    status = (
        await client.post(
            "/api/v1/statuses",
            headers=bearer(token),
            json={"status": "v1", "media_ids": [first["id"]]},
        )
    ).json()
    url = f"/api/v1/statuses/{status['id']}"

    # Without media_ids an edit keeps the attachments.
    kept = await client.put(url, headers=bearer(token), json={"status": "v2"})
    assert kept.status_code == 200, kept.text
    assert [m["id"] for m in kept.json()["media_attachments"]] == [first["id"]]

    swapped = await client.put(
        url, headers=bearer(token), json={"status": "v3", "media_ids": [second["id"], first["id"]]}
    )
    assert swapped.status_code == 200, swapped.text
    assert [m["id"] for m in swapped.json()["media_attachments"]] == [second["id"], first["id"]]
    update = await runtime.pool.fetchval(
        "SELECT body FROM activities WHERE activity_type = 'Update' ORDER BY id DESC LIMIT 1"
    )
    assert [d["mediaType"] for d in update["object"]["attachment"]] == ["image/gif", "image/png"]

    removed = await client.put(url, headers=bearer(token), json={"status": "v4", "media_ids": []})
    assert removed.json()["media_attachments"] == []
    # The let-go upload is free again: it can be fetched, changed, attached elsewhere.
    assert (
        await client.get(f"/api/v1/media/{first['id']}", headers=bearer(token))
    ).status_code == 200

    # Media of another status cannot be taken over by an edit.
    other = (
        await client.post(
            "/api/v1/statuses",
            headers=bearer(token),
            json={"status": "o", "media_ids": [second["id"]]},
        )
    ).json()
    assert other["media_attachments"][0]["id"] == second["id"]
    stolen = await client.put(
        url, headers=bearer(token), json={"status": "v5", "media_ids": [second["id"]]}
    )
    assert stolen.status_code == 422
    empty = await client.put(url, headers=bearer(token), json={"status": "", "media_ids": []})
    assert empty.status_code == 422


async def test_delete_and_redraft_reuses_the_media(
    client: httpx.AsyncClient, alice: Member
) -> None:
    token = await _token(client, alice)
    media = (await upload(client, token, png(), fields={"description": "kept"})).json()
    body = {"status": "first draft", "media_ids": [media["id"]]}
    status = (await client.post("/api/v1/statuses", headers=bearer(token), json=body)).json()
    deleted = await client.delete(f"/api/v1/statuses/{status['id']}", headers=bearer(token))
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "first draft"
    redraft_ids = [m["id"] for m in deleted.json()["media_attachments"]]
    assert redraft_ids == [media["id"]]
    body = {"status": "second draft", "media_ids": redraft_ids}
    again = await client.post("/api/v1/statuses", headers=bearer(token), json=body)
    assert again.status_code == 200, again.text
    assert again.json()["media_attachments"][0]["description"] == "kept"


async def test_uploads_are_limited_per_token(client: httpx.AsyncClient, alice: Member) -> None:
    """30 uploads per token in 30 minutes, as Mastodon allows."""
    token = await _token(client, alice)
    for _ in range(30):
        response = await client.post("/api/v2/media", headers=bearer(token))
        assert response.status_code == 422  # no file; still counted, as Mastodon counts
    refused = await upload(client, token, png())
    assert refused.status_code == 429
    other = await _token(client, alice)
    assert (await upload(client, other, png())).status_code == 200


async def test_huge_bodies_are_refused_before_they_are_stored(
    runtime: Runtime, settings: Settings, alice: Member
) -> None:
    small = dataclasses.replace(settings, media_max_bytes=2048)
    app = build_app(small, dataclasses.replace(runtime, settings=small))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as client:
        token = await _token(client, alice)
        just_over = await upload(client, token, png() + b"\x00" * 3000)
        assert just_over.status_code == 422
        assert just_over.json()["field"] == "file"
        huge = await upload(client, token, png() + b"\x00" * 200_000)
        assert huge.status_code == 413
        avatar = await client.patch(
            "/api/v1/accounts/update_credentials",
            headers=bearer(token),
            files={"avatar": ("a.png", png() + b"\x00" * 200_000, "image/png")},
        )
        assert avatar.status_code == 413
        assert (await upload(client, token, png())).status_code == 200
