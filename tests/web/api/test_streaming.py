"""The streaming API against real ``fedinet serve`` processes, with a real WebSocket
client (``websockets``) and server-sent events read with httpx.

Instance A runs its background work in a separate ``fedinet worker`` process, so a post
arriving from instance B reaches A's web process only through PostgreSQL NOTIFY.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.conftest import DatabaseFactory
from tests.helpers.cluster import PASSWORD, Instance, Member, follow_and_accept
from tests.helpers.servers import password_token, start_worker
from tests.web.api.schema import assert_matches

pytestmark = pytest.mark.slow

TIMEOUT = 20.0


@pytest.fixture(scope="module")
def cluster(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance, subprocess.Popen[bytes]]]:
    work = tmp_path_factory.mktemp("streaming")
    a = Instance("a", module_database(), work / "a", env_extra={"FEDINET_WORKERS_IN_WEB": "false"})
    b = Instance("b", module_database(), work / "b")
    (work / "a").mkdir()
    (work / "b").mkdir()
    a.start()
    b.start()
    assert a.server is not None
    worker = start_worker(a.server.env, log=work / "a" / "worker.log")
    try:
        yield a, b, worker
    finally:
        worker.terminate()
        worker.wait(30)
        a.stop()
        b.stop()


@pytest.fixture(scope="module")
def people(cluster: tuple[Instance, Instance, Any]) -> dict[str, Member]:
    a, b, _ = cluster
    return {"alice": a.member("alice"), "bob": a.member("bob"), "carol": b.member("carol")}


def ws_url(instance: Instance, query: str = "") -> str:
    return instance.url.replace("http://", "ws://") + "/api/v1/streaming" + query


async def next_message(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def next_event(ws: ClientConnection, event: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next message of type ``event`` (others, such as deletes, are skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        message = await next_message(ws, max(remaining, 0.01))
        if message.get("event") == event:
            return message


async def nothing_within(ws: ClientConnection, seconds: float = 1.5) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), seconds)


async def acknowledged(ws: ClientConnection) -> None:
    """Client messages are handled in order: once a bad one is answered, the ones before
    it took effect."""
    await ws.send("not json")
    assert (await next_message(ws)) == {"error": "Invalid JSON", "status": 400}


def test_health(cluster: tuple[Instance, Instance, Any]) -> None:
    a, _, _ = cluster
    response = httpx.get(f"{a.url}/api/v1/streaming/health")
    assert response.status_code == 200
    assert response.text == "OK"


async def test_handshake_refusals(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    for query, status in [
        ("?stream=user&access_token=nonsense", 401),
        ("?stream=user", 401),  # the user stream needs a token
        (f"?stream=nope&access_token={people['alice'].token}", 400),
        (f"?stream=hashtag&access_token={people['alice'].token}", 400),  # no tag
    ]:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(a, query)):
                pass
        assert refused.value.response.status_code == status, query
    # A token without a read scope cannot stream.
    write_only = _token(a, "alice", "write")
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(a, f"?stream=user&access_token={write_only}")):
            pass
    assert refused.value.response.status_code == 403


def _token(instance: Instance, username: str, scope: str) -> str:
    with instance.http() as http:
        return password_token(
            http, instance.url, instance._app(), f"{username}@example.org", PASSWORD, scope
        )


async def test_user_stream_update_edit_delete(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    alice = people["alice"]
    async with connect(ws_url(a, f"?stream=user&access_token={alice.token}")) as ws:
        posted = alice.post("/api/v1/statuses", status="hello stream")
        update = await next_event(ws, "update")
        assert update["stream"] == ["user"]
        assert isinstance(update["payload"], str)  # a JSON string, as Mastodon sends
        status = json.loads(update["payload"])
        assert status["id"] == posted["id"]
        assert status["content"] == posted["content"]
        assert_matches("Status", status)

        alice.put(f"/api/v1/statuses/{posted['id']}", status="hello stream, edited")
        edited = await next_event(ws, "status.update")
        assert edited["stream"] == ["user"]
        assert "edited" in json.loads(edited["payload"])["content"]

        alice.delete(f"/api/v1/statuses/{posted['id']}")
        deleted = await next_event(ws, "delete")
        assert deleted["payload"] == posted["id"]


async def test_token_in_sec_websocket_protocol(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    alice = people["alice"]
    async with connect(ws_url(a, "?stream=user"), subprotocols=[alice.token]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == alice.token
        posted = alice.post("/api/v1/statuses", status="via the protocol header")
        update = await next_event(ws, "update")
        assert json.loads(update["payload"])["id"] == posted["id"]


async def test_notifications_reach_only_their_recipient(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    alice, bob = people["alice"], people["bob"]
    posted = alice.post("/api/v1/statuses", status="favourite me")
    async with (
        connect(ws_url(a, f"?stream=user:notification&access_token={alice.token}")) as ws,
        connect(ws_url(a, f"?stream=user:notification&access_token={bob.token}")) as other,
    ):
        bob.post(f"/api/v1/statuses/{posted['id']}/favourite")
        message = await next_event(ws, "notification")
        assert message["stream"] == ["user:notification"]
        notification = json.loads(message["payload"])
        assert_matches("Notification", notification)
        assert notification["type"] == "favourite"
        assert notification["account"]["username"] == "bob"
        assert notification["status"]["id"] == posted["id"]
        await nothing_within(other)


async def test_subscribe_and_unsubscribe_hashtag_and_public(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    alice, bob = people["alice"], people["bob"]
    async with connect(ws_url(a, f"?access_token={alice.token}")) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Cats"}))
        await acknowledged(ws)
        bob.post("/api/v1/statuses", status="no tag here")
        tagged = bob.post("/api/v1/statuses", status="look #cats")
        message = await next_event(ws, "update")
        assert message["stream"] == ["hashtag", "cats"]
        assert json.loads(message["payload"])["id"] == tagged["id"]

        await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "cats"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
        await acknowledged(ws)
        plain = bob.post("/api/v1/statuses", status="everyone sees #cats")
        message = await next_event(ws, "update")
        assert message["stream"] == ["public:local"]
        assert json.loads(message["payload"])["id"] == plain["id"]
        # Followers-only posts are not public.
        bob.post("/api/v1/statuses", status="friends only", visibility="private")
        await nothing_within(ws)

        await ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        error = await next_message(ws)
        assert error["status"] == 400


async def test_anonymous_public_stream(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    async with connect(ws_url(a, "?stream=public")) as ws:
        posted = people["bob"].post("/api/v1/statuses", status="for the anonymous")
        message = await next_event(ws, "update")
        status = json.loads(message["payload"])
        assert status["id"] == posted["id"]
        assert "favourited" not in status  # no viewer flags without a viewer


async def test_remote_post_reaches_the_stream_through_the_worker(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    """B delivers to A's inbox; A's separate worker process stores the post and fills
    alice's home feed; A's web process hears of it through NOTIFY."""
    a, _, _ = cluster
    alice, carol = people["alice"], people["carol"]
    await asyncio.to_thread(follow_and_accept, alice, carol)
    async with connect(ws_url(a, f"?stream=user&access_token={alice.token}")) as ws:
        carol.post("/api/v1/statuses", status="hello from instance B")
        message = await next_event(ws, "update", timeout=60)
        status = json.loads(message["payload"])
        assert status["account"]["acct"] == carol.acct
        assert "hello from instance B" in status["content"]


async def _sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event is not None:
            yield event, line.removeprefix("data: ")
            event = None


async def test_server_sent_events(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    alice = people["alice"]
    headers = {"Authorization": f"Bearer {alice.token}"}
    async with httpx.AsyncClient(base_url=a.url, timeout=TIMEOUT) as client:
        refused = await client.get("/api/v1/streaming/user", headers={"Authorization": "Bearer x"})
        assert refused.status_code == 401
        missing = await client.get("/api/v1/streaming/nonsense", headers=headers)
        assert missing.status_code == 404
        async with client.stream("GET", "/api/v1/streaming/user", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _sse_events(response)
            # subscribed before the headers were sent: nothing posted from now on is missed
            posted = await asyncio.to_thread(alice.post, "/api/v1/statuses", status="server-sent")
            event, data = await asyncio.wait_for(anext(events), TIMEOUT)
            assert event == "update"
            assert json.loads(data)["id"] == posted["id"]
        # The stream may also be named in the query, on the WebSocket's path.
        async with client.stream(
            "GET", "/api/v1/streaming", params={"stream": "public:local"}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            first = await asyncio.wait_for(anext(response.aiter_lines()), TIMEOUT)
            assert first.startswith(":")


async def test_list_stream_shows_what_the_list_shows(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    """Posts of the list's members come on its stream; posts of others the owner follows
    do not. The list is exclusive, so its members' posts stay off the home stream, as
    off the home timeline. Only the owner may stream the list."""
    a, _, _ = cluster
    owner, listed, other = a.member("lena"), a.member("omar"), a.member("pia")
    listed_account = await asyncio.to_thread(follow_and_accept, owner, listed)
    await asyncio.to_thread(
        follow_and_accept,
        owner,
        other,
        "Pia, your weekend ferment experiments made me finally try sauerkraut; may I follow?",
    )
    made = owner.post("/api/v1/lists", title="close friends", exclusive="true")
    assert made["exclusive"] is True
    owner.post(f"/api/v1/lists/{made['id']}/accounts", account_ids=[listed_account["id"]])
    query = f"?stream=list&list={made['id']}&access_token={owner.token}"
    async with (
        connect(ws_url(a, query)) as ws,
        connect(ws_url(a, f"?stream=user&access_token={owner.token}")) as home,
    ):
        unlisted = other.post("/api/v1/statuses", status="in the home feed, not on the list")
        posted = listed.post("/api/v1/statuses", status="for the list")
        message = await next_message(ws)  # the first: the other post was not sent
        assert message["stream"] == ["list", made["id"]]
        assert message["event"] == "update"
        status = json.loads(message["payload"])
        assert status["id"] == posted["id"]
        assert_matches("Status", status)
        shown = owner.get(f"/api/v1/timelines/list/{made['id']}")
        assert [s["id"] for s in shown] == [posted["id"]]

        on_home = await next_event(home, "update")
        assert json.loads(on_home["payload"])["id"] == unlisted["id"]
        await nothing_within(home)  # the list member's post is not on the home stream
        assert [s["id"] for s in owner.get("/api/v1/timelines/home")] == [unlisted["id"]]

        listed.put(f"/api/v1/statuses/{posted['id']}", status="for the list, edited")
        edited = await next_event(ws, "status.update")
        assert edited["stream"] == ["list", made["id"]]
        assert "edited" in json.loads(edited["payload"])["content"]
        await nothing_within(home)

    bob = people["bob"]
    stranger = f"?stream=list&list={made['id']}&access_token={bob.token}"
    for query, status_code in [(stranger, 401), (f"?stream=list&access_token={bob.token}", 400)]:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(a, query)):
                pass
        assert refused.value.response.status_code == status_code, query
    async with connect(ws_url(a, f"?access_token={bob.token}")) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": made["id"]}))
        assert await next_message(ws) == {
            "error": "Not authorized to stream this list",
            "status": 401,
        }
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "x"}))
        assert await next_message(ws) == {"error": "Missing list name parameter", "status": 400}

    async with httpx.AsyncClient(base_url=a.url, timeout=TIMEOUT) as client:
        path = f"/api/v1/streaming/list?list={made['id']}"
        refused_sse = await client.get(path, headers={"Authorization": f"Bearer {bob.token}"})
        assert refused_sse.status_code == 401
        assert refused_sse.json()["error"] == "Not authorized to stream this list"
        headers = {"Authorization": f"Bearer {owner.token}"}
        async with client.stream("GET", path, headers=headers) as response:
            assert response.status_code == 200
            events = _sse_events(response)
            again = await asyncio.to_thread(listed.post, "/api/v1/statuses", status="by SSE")
            event, data = await asyncio.wait_for(anext(events), TIMEOUT)
            assert event == "update"
            assert json.loads(data)["id"] == again["id"]


async def test_direct_stream_sends_the_conversation(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    a, _, _ = cluster
    alice, bob = people["alice"], people["bob"]
    async with connect(ws_url(a, f"?stream=direct&access_token={alice.token}")) as ws:
        # A public mention enters alice's home feed too, but is no conversation.
        bob.post("/api/v1/statuses", status="@alice said in public")
        posted = bob.post("/api/v1/statuses", status="@alice just between us", visibility="direct")
        message = await next_message(ws)
        assert message["stream"] == ["direct"]
        assert message["event"] == "conversation"
        conversation = json.loads(message["payload"])
        assert_matches("Conversation", conversation)
        assert conversation["last_status"]["id"] == posted["id"]
        assert conversation["unread"] is True
        assert [account["username"] for account in conversation["accounts"]] == ["bob"]
        listed = alice.get("/api/v1/conversations")
        assert listed[0]["id"] == conversation["id"]

    async with httpx.AsyncClient(base_url=a.url, timeout=TIMEOUT) as client:
        anonymous = await client.get("/api/v1/streaming/direct")
        assert anonymous.status_code == 401
        headers = {"Authorization": f"Bearer {bob.token}"}
        async with client.stream("GET", "/api/v1/streaming/direct", headers=headers) as response:
            assert response.status_code == 200
            events = _sse_events(response)
            reply = await asyncio.to_thread(
                alice.post,
                "/api/v1/statuses",
                status="@bob agreed",
                visibility="direct",
                in_reply_to_id=posted["id"],
            )
            event, data = await asyncio.wait_for(anext(events), TIMEOUT)
            assert event == "conversation"
            assert json.loads(data)["last_status"]["id"] == reply["id"]


def test_logs_have_no_errors(cluster: tuple[Instance, Instance, Any]) -> None:
    a, b, _ = cluster
    for instance in (a, b):
        assert "Traceback" not in instance.log(), instance.log()[-3000:]


def test_account_search_resolves_remote_accounts(
    cluster: tuple[Instance, Instance, Any], people: dict[str, Member]
) -> None:
    """``/api/v1/accounts/search?resolve=true`` (here because this module already runs
    two instances): a ``user@domain`` unknown to A is looked up through WebFinger."""
    _, b, _ = cluster
    alice = people["alice"]
    dave = b.member("dave")
    unresolved = alice.get("/api/v1/accounts/search", q=dave.acct)
    assert unresolved == []
    found = alice.get("/api/v1/accounts/search", q=f"@{dave.acct}", resolve="true")
    assert [a["acct"] for a in found] == [dave.acct]
    assert_matches("Account", found[0])
    # Now known, it is found without resolving too.
    assert [a["acct"] for a in alice.get("/api/v1/accounts/search", q="dav")] == [dave.acct]
