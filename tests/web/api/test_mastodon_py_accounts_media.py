"""The real Mastodon.py client against a real ``fedinet serve``: signing up, media,
statuses with media, an account's statuses and followers (following the Link headers),
account search, notes, removing a follower, and the user stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, MastodonIllegalArgumentError, StreamListener

from fedinet.db import follows as follows_db
from fedinet.db.pool import connect
from tests.conftest import DatabaseFactory
from tests.helpers.servers import ServerProcess, free_port, run_cli
from tests.services.test_media_probe import mp4
from tests.web.api.test_media import gif, png

pytestmark = pytest.mark.slow

SCOPES = ["read", "write", "follow"]
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, str]]]:
    database_url = module_database()
    tmp = tmp_path_factory.mktemp("mastodon_py_more")
    port = free_port()
    env = {
        "FEDINET_URL": f"http://127.0.0.1:{port}",
        "FEDINET_DATABASE_URL": database_url,
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_SECRET_KEY": "mastodon-py-more-" + "k" * 40,
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
    }
    process = ServerProcess(env, port=port, log=tmp / "serve.log").start()
    try:
        yield process.url, database_url, env
    finally:
        process.stop()
        assert "Traceback" not in process.log(), process.log()[-3000:]


def member(server: tuple[str, str, dict[str, str]], tmp: Path, username: str) -> Mastodon:
    """A new member, made by the admin command and logged in with the password grant:
    sign-ups through the API are limited to five per address in 30 minutes, so only the
    sign-up tests use ``create_account``."""
    url, _, env = server
    made = run_cli(
        "admin",
        "create-user",
        username,
        "--email",
        f"{username}@example.org",
        "--password",
        PASSWORD,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    client_id, client_secret = Mastodon.create_app(
        "fedinet tests", scopes=SCOPES, api_base_url=url, to_file=tmp / f"{username}.app"
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    api.log_in(f"{username}@example.org", PASSWORD, scopes=SCOPES, allow_http=True)
    return api


def signed_up(url: str, tmp: Path, username: str) -> Mastodon:
    """A new member, registered through ``create_account`` as an app would."""
    client_id, client_secret = Mastodon.create_app(
        "fedinet tests", scopes=SCOPES, api_base_url=url, to_file=tmp / f"{username}.app"
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    token = api.create_account(
        username, PASSWORD, f"{username}@example.org", agreement=True, scopes=SCOPES
    )
    assert token
    return Mastodon(access_token=token, api_base_url=url)


def test_create_account_and_errors(server: tuple[str, str, dict[str, str]], tmp_path: Path) -> None:
    url, _, _ = server
    member = signed_up(url, tmp_path, "dora")
    assert member.account_verify_credentials().username == "dora"

    client_id, client_secret = Mastodon.create_app(
        "fedinet tests", scopes=SCOPES, api_base_url=url, to_file=tmp_path / "again.app"
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    token, error = api.create_account(
        "dora",
        PASSWORD,
        "dora@example.org",
        agreement=True,
        scopes=SCOPES,
        return_detailed_error=True,
    )
    assert token is None
    assert error.details.username[0].error == "ERR_TAKEN"
    assert error.details.email[0].error == "ERR_TAKEN"
    with pytest.raises(MastodonIllegalArgumentError, match="Agreement must be accepted"):
        api.create_account("nope", PASSWORD, "nope@example.org", agreement=False, scopes=SCOPES)


def test_media_statuses_and_account_lists(
    server: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    erin = member(server, tmp_path, "erin")
    image = tmp_path / "flag.png"
    image.write_bytes(png(6, 3))
    media = erin.media_post(image, description="a flag", focus=(0.5, 0.5))
    assert media.url.endswith(".png")
    assert media.meta.original.width == 6
    assert erin.media(media).description == "a flag"
    assert erin.media_update(media, description="the flag").description == "the flag"
    second = erin.media_post(gif(4, 4), mime_type="image/gif", file_name="dot.gif")

    with_media = erin.status_post("with pictures", media_ids=[media, second])
    assert [m.id for m in with_media.media_attachments] == [media.id, second.id]
    plain = [erin.status_post(f"plain {i}") for i in range(3)]

    me = erin.me()
    everything = erin.account_statuses(me)
    assert [s.id for s in everything] == [*(s.id for s in reversed(plain)), with_media.id]
    assert [s.id for s in erin.account_statuses(me, only_media=True)] == [with_media.id]
    first_page = erin.account_statuses(me, limit=2)
    assert [s.id for s in first_page] == [plain[2].id, plain[1].id]
    second_page = erin.fetch_next(first_page)
    assert second_page is not None
    assert [s.id for s in second_page] == [plain[0].id, with_media.id]


def test_video_and_audio_attachments(
    server: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    fay = member(server, tmp_path, "fay")
    clip = fay.media_post(mp4(), mime_type="video/mp4", file_name="clip.mp4", description="a clip")
    assert clip.type == "video"
    assert clip.url.endswith(".mp4")
    assert clip.meta.original.width == 640
    voice = fay.media_post(b"ID3\x04\x00\x00" + bytes(64), mime_type="audio/mpeg")
    assert voice.type == "audio"
    posted = fay.status_post("hear and see", media_ids=[clip, voice])
    assert [(m.id, m.type) for m in posted.media_attachments] == [
        (clip.id, "video"),
        (voice.id, "audio"),
    ]
    assert [s.id for s in fay.account_statuses(fay.me(), only_media=True)] == [posted.id]


def test_followers_search_note_and_removal(
    server: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    _, database_url, _ = server
    frank = member(server, tmp_path, "frank")
    fans = [member(server, tmp_path, f"fan{i}") for i in range(3)]
    frank_id = frank.me().id
    _accept_follows(database_url, [int(f.me().id) for f in fans], int(frank_id))

    followers = frank.account_followers(frank_id, limit=2)
    assert [a.username for a in followers] == ["fan2", "fan1"]
    rest = frank.fetch_next(followers)
    assert rest is not None
    assert [a.username for a in rest] == ["fan0"]
    assert [a.username for a in fans[0].account_following(fans[0].me())] == ["frank"]

    found = frank.account_search("fan")
    assert {a.username for a in found} == {"fan0", "fan1", "fan2"}
    familiar = fans[0].account_familiar_followers(frank_id)
    assert familiar[0].id == frank_id

    relationship = frank.account_note_set(fans[0].me(), "first fan")
    assert relationship.note == "first fan"
    removed = frank.account_remove_from_followers(fans[0].me())
    assert removed.followed_by is False
    assert [a.username for a in frank.account_followers(frank_id)] == ["fan2", "fan1"]


def _accept_follows(database_url: str, follower_ids: list[int], followee_id: int) -> None:
    """Accepted follows written straight to the database (follow requests and their notes
    are tested elsewhere)."""
    import asyncio

    async def write() -> None:
        conn = await connect(database_url)
        try:
            for follower_id in follower_ids:
                await follows_db.insert_follow(
                    conn,
                    uri=f"http://fans.invalid/follows/{follower_id}",
                    follower_id=follower_id,
                    followee_id=followee_id,
                    accepted=True,
                )
        finally:
            await conn.close()

    asyncio.run(write())


class Recorder(StreamListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.notifications: list[Any] = []
        self.got = threading.Event()

    def on_update(self, status: Any) -> None:
        self.updates.append(status)
        self.got.set()

    def on_notification(self, notification: Any) -> None:
        self.notifications.append(notification)
        self.got.set()


def test_stream_user(server: tuple[str, str, dict[str, str]], tmp_path: Path) -> None:
    gina = member(server, tmp_path, "gina")
    listener = Recorder()
    handle = gina.stream_user(listener, run_async=True, timeout=30)
    try:
        deadline = time.monotonic() + 20
        while handle.connection is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.connection is not None, "the stream did not connect"
        posted = gina.status_post("streamed to Mastodon.py")
        assert listener.got.wait(20), "no update arrived"
        assert listener.updates[0].id == posted.id
        assert listener.updates[0].content == posted.content
    finally:
        handle.close()
