"""The real Mastodon.py client against a real fedinet server over TCP.

When ``create_app`` wires in ``fedinet.web.api`` this runs a real ``fedinet serve`` process;
until then it serves ``build_app`` (``create_app`` plus the API) with uvicorn in a thread.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from mastodon import Mastodon, MastodonIllegalArgumentError, MastodonUnauthorizedError

from fedinet.app import create_app
from fedinet.config import Settings
from tests.conftest import DatabaseFactory
from tests.helpers.servers import ServerProcess, free_port, run_cli
from tests.web.api.conftest import PASSWORD, build_app

pytestmark = pytest.mark.slow

REDIRECT = "https://client.example/callback"
SCOPES = ["read", "write", "follow", "push"]
SECRET = "mastodon-py-secret-" + "k" * 40


def _api_wired(settings: Settings) -> bool:
    app = create_app(settings)
    return "/api/v1/apps" in {getattr(r, "path", None) for r in app.router.routes}


class ThreadedServer:
    """uvicorn serving ``build_app`` on loopback in a thread (its own event loop)."""

    def __init__(self, settings: Settings, port: int) -> None:
        config = uvicorn.Config(
            build_app(settings), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, url: str) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the threaded server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def server_url(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    database_url = module_database()
    tmp = tmp_path_factory.mktemp("mastodon_py")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "FEDINET_URL": url,
        "FEDINET_DATABASE_URL": database_url,
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_SECRET_KEY": SECRET,
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
        "FEDINET_WORKERS_IN_WEB": "false",
    }
    made = run_cli(
        "admin",
        "create-user",
        "alice",
        "--email",
        "alice@example.org",
        "--password",
        PASSWORD,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    made = run_cli(
        "admin", "create-user", "bob", "--email", "bob@example.org", "--password", PASSWORD, env=env
    )
    assert made.returncode == 0, made.stderr
    settings = Settings(
        url=url,
        database_url=database_url,
        data_dir=tmp / "data",
        secret_key=SECRET,
        allow_private_networks=True,
        workers_in_web=False,
    )
    if _api_wired(settings):
        process = ServerProcess(env, port=port, log=tmp / "serve.log").start()
        try:
            yield url
        finally:
            process.stop()
    else:
        threaded = ThreadedServer(settings, port)
        threaded.start(url)
        try:
            yield url
        finally:
            threaded.stop()


def new_app(url: str, path: Path) -> tuple[str, str]:
    client_id, client_secret = Mastodon.create_app(
        "fedinet tests",
        scopes=SCOPES,
        redirect_uris=[REDIRECT, "urn:ietf:wg:oauth:2.0:oob"],
        website="https://client.example",
        api_base_url=url,
        to_file=path,
    )
    return client_id, client_secret


def test_password_login_verify_instance_and_revoke(server_url: str, tmp_path: Path) -> None:
    client_id, client_secret = new_app(server_url, tmp_path / "app.secret")
    mastodon = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=server_url,
        version_check_mode="created",
    )
    token = mastodon.log_in("alice@example.org", PASSWORD, scopes=SCOPES, allow_http=True)
    assert token
    assert mastodon.verify_minimum_version("4.3.0")
    assert mastodon.mastodon_api_version == 2

    me = mastodon.account_verify_credentials()
    assert me.username == "alice"
    assert me.acct == "alice"
    assert me.source.privacy == "public"

    assert mastodon.account(me.id).username == "alice"
    assert mastodon.account_lookup("alice").id == me.id

    v1 = mastodon.instance_v1()
    assert v1.uri == f"127.0.0.1:{server_url.rsplit(':', 1)[1]}"
    assert v1.version.startswith("4.3.0")
    v2 = mastodon.instance_v2()
    assert v2.api_versions.mastodon == 2
    assert v2.configuration.statuses.max_characters == 500
    assert mastodon.instance().version.startswith("4.3.0")
    assert mastodon.instance_rules() == []
    assert mastodon.instance_peers() == []
    assert len(mastodon.instance_activity()) == 12

    app = mastodon.app_verify_credentials()
    assert app.name == "fedinet tests"

    with pytest.raises(MastodonIllegalArgumentError, match="invalid_grant"):
        Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server_url).log_in(
            "alice@example.org", "wrong password", allow_http=True
        )

    mastodon.revoke_access_token(allow_http=True)
    revoked = Mastodon(access_token=token, api_base_url=server_url)
    with pytest.raises(MastodonUnauthorizedError):
        revoked.account_verify_credentials()


def test_authorization_code_flow(server_url: str, tmp_path: Path) -> None:
    client_id, client_secret = new_app(server_url, tmp_path / "app.secret")
    mastodon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server_url)
    url = mastodon.auth_request_url(
        redirect_uris=REDIRECT, scopes=["read", "write"], state="s-123", allow_http=True
    )
    assert url.startswith(f"{server_url}/oauth/authorize?")
    with httpx.Client() as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        assert "csrf_token" in form
        form.update(username="alice@example.org", password=PASSWORD, decision="approve")
        redirect = browser.post(f"{server_url}/oauth/authorize", data=form)
    assert redirect.status_code == 302, redirect.text
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]

    token = mastodon.log_in(
        code=query["code"][0], redirect_uri=REDIRECT, scopes=["read", "write"], allow_http=True
    )
    assert token
    assert mastodon.account_verify_credentials().username == "alice"
    with pytest.raises(MastodonIllegalArgumentError, match="invalid_grant"):
        Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server_url).log_in(
            code=query["code"][0], redirect_uri=REDIRECT, scopes=["read"], allow_http=True
        )


def _logged_in(url: str, path: Path, email: str) -> Mastodon:
    client_id, client_secret = new_app(url, path)
    mastodon = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=url,
        version_check_mode="created",
    )
    mastodon.log_in(email, PASSWORD, scopes=SCOPES, allow_http=True)
    return mastodon


def test_notifications_bookmarks_lists_filters_markers(server_url: str, tmp_path: Path) -> None:
    alice = _logged_in(server_url, tmp_path / "a.secret", "alice@example.org")
    bob = _logged_in(server_url, tmp_path / "b.secret", "bob@example.org")
    # bob takes follows without a note or approval (fedinet's extension, over plain HTTP)
    opened = httpx.patch(
        f"{server_url}/api/v1/accounts/update_credentials",
        headers={"Authorization": f"Bearer {bob.access_token}"},
        data={"follow_note_policy": "open", "locked": "false"},
    )
    assert opened.status_code == 200, opened.text
    me, him = alice.me(), bob.me()

    hello = alice.status_post("hello from alice")
    bob.status_post(f"@alice hi there {time.time()}")
    bob.status_favourite(hello)
    bob.status_reblog(hello)

    notifications = alice.notifications(types=["mention", "favourite"])
    assert [n.type for n in notifications] == ["favourite", "mention"]
    assert all(n.account.id == him.id for n in notifications)
    assert notifications[0].status.id == hello.id
    assert [n.type for n in alice.notifications(exclude_types=["mention", "favourite"])][:1] == [
        "reblog"
    ]
    one = alice.notifications(id=notifications[0].id)
    assert one.id == notifications[0].id
    alice.notifications_dismiss(notifications[0])
    assert notifications[0].id not in [n.id for n in alice.notifications()]

    marked = alice.markers_set(["notifications"], [notifications[1].id])
    assert marked.notifications.last_read_id == notifications[1].id
    assert (
        alice.markers_get(["notifications"]).notifications.version == marked.notifications.version
    )

    assert alice.status_bookmark(hello).bookmarked is True
    assert [s.id for s in alice.bookmarks()] == [hello.id]
    alice.status_unbookmark(hello)
    assert alice.bookmarks() == []

    alice.account_follow(him)
    assert alice.account_relationships(him)[0].following is True
    friends = alice.list_create("Friends")
    alice.list_accounts_add(friends, [him])
    assert [a.id for a in alice.list_accounts(friends)] == [him.id]
    bob_post = bob.status_post("for my list readers")
    assert bob_post.id in [s.id for s in alice.timeline_list(friends)]
    assert [item.title for item in alice.lists()] == ["Friends"]
    alice.list_update(friends, "Close friends")
    assert alice.list(friends).title == "Close friends"
    alice.list_accounts_delete(friends, [him])
    assert alice.list_accounts(friends) == []
    alice.list_delete(friends)
    assert alice.lists() == []

    made = alice.create_filter_v2(
        "Lists", ["home"], "warn", keywords_attributes=[{"keyword": "list", "whole_word": True}]
    )
    assert [k.keyword for k in made.keywords] == ["list"]
    alice.add_filter_keyword_v2(made, "readers")
    home = alice.timeline_home()
    flagged = next(s for s in home if s.id == bob_post.id)
    assert flagged.filtered[0].filter.id == made.id
    assert sorted(flagged.filtered[0].keyword_matches) == ["list", "readers"]
    assert [f.phrase for f in alice.filters()] == ["list", "readers"]
    alice.delete_filter_v2(made)
    assert alice.filters_v2() == []

    alice.notifications_clear()
    assert alice.notifications() == []
    assert me.username == "alice"
