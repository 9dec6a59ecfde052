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
