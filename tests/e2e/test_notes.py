"""Follow requests with personal notes, across real fedinet processes and a peer that
behaves like Mastodon (sends Follows without notes)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import DatabaseFactory
from tests.helpers.cluster import Instance, Member, eventually
from tests.helpers.remote import RemoteAccount, RemoteServer

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture(scope="module")
def pair(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance]]:
    a = Instance("a", module_database(), tmp_path_factory.mktemp("notes-a")).start()
    b = Instance("b", module_database(), tmp_path_factory.mktemp("notes-b")).start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture(scope="module")
def peer() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        yield server


def profile(member: Member, **values: Any) -> dict[str, Any]:
    with member.api() as client:
        response = client.patch("/api/v1/accounts/update_credentials", data=values)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def follow(member: Member, account_id: str, expect: int = 200, **data: Any) -> dict[str, Any]:
    with member.api() as client:
        response = client.post(f"/api/v1/accounts/{account_id}/follow", data=data)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def requests_of(member: Member) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = member.get("/api/v1/follow_requests")
    return found


def test_follow_with_a_note_across_instances(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    ana, carl = a.member("ana"), b.member("carl")
    me = profile(
        ana,
        **{"motives[]": ["friendship", "support"], "interests[]": ["Gardening", "#birding"]},
        region="Nashville, TN, US",
        note="I grow tomatoes and watch warblers from my porch.",
    )
    assert me["motives"] == ["friendship", "support"]  # the member sees all of theirs
    assert me["source"]["private_motives"] == ["support"]  # sensitive: private by default
    profile(carl, **{"motives[]": ["friendship"], "interests[]": ["gardening"]})

    ana_on_b = carl.find(ana)
    assert ana_on_b["motives"] == ["friendship"]  # private motives never federate
    assert ana_on_b["interests"] == ["gardening", "birding"]
    assert ana_on_b["region"] == "Nashville, TN, US"

    note = "Your tomato posts got me started on my own gardening this spring, thank you!"
    relationship = follow(carl, ana_on_b["id"], note=note, motive="friendship")
    assert relationship["requested"] is True

    request = eventually(lambda: requests_of(ana), what="the request on A")[0]
    details = request["follow_request"]
    assert details["note"] == note
    assert details["motive"] == "friendship"
    assert details["shared"]["interests"] == ["gardening"]
    assert details["shared"]["motives"] == ["friendship"]
    assert details["requester"]["requests_refused"] == 0
    ana.post(f"/api/v1/follow_requests/{request['id']}/authorize")
    eventually(
        lambda: carl.get("/api/v1/accounts/relationships", id=ana_on_b["id"])[0]["following"],
        what="the Accept on B",
    )


def test_generic_and_short_notes_are_refused_with_reasons(
    pair: tuple[Instance, Instance],
) -> None:
    a, b = pair
    dora, eli = a.member("dora"), b.member("eli")
    profile(dora, **{"interests[]": ["chess"]})
    dora_on_b = eli.find(dora)
    generic = follow(
        eli,
        dora_on_b["id"],
        expect=422,
        note="I'd like to add you to my professional network.",
    )
    assert generic["reason"] == "note_generic"
    assert generic["hint"]
    short = follow(eli, dora_on_b["id"], expect=422, note="hi there")
    assert short["reason"] in ("note_too_short", "note_missing")
    missing = follow(eli, dora_on_b["id"], expect=422)
    assert missing["reason"] == "note_missing"
    assert requests_of(dora) == []


def test_refusal_by_the_recipients_server_reaches_the_sender(
    pair: tuple[Instance, Instance],
) -> None:
    a, b = pair
    fay, gus = a.member("fay"), b.member("gus")
    profile(fay, follow_note_policy="open")
    fay_on_b = gus.find(fay)  # B caches fay with the open policy
    profile(fay, follow_note_policy="strict")  # B does not know yet (no follower there)
    follow(gus, fay_on_b["id"], note="Hello, nice to meet you here today friend")
    message = eventually(
        lambda: [
            s
            for s in gus.home()
            if s["visibility"] == "direct" and "not accepted" in str(s["content"])
        ],
        what="the refusal message on B",
    )[0]
    assert message["account"]["username"] == "fedinet"
    relationship = gus.get("/api/v1/accounts/relationships", id=fay_on_b["id"])[0]
    assert relationship["requested"] is False and relationship["following"] is False


def test_connect_link_needs_no_note(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    hana, ivan = a.member("hana"), b.member("ivan")
    link = hana.post("/api/v1/connect_links")
    assert link["code"] and link["url"] and link["expires_at"]
    hana_on_b = ivan.find(hana)
    follow(ivan, hana_on_b["id"], connect_code=link["code"])
    eventually(
        lambda: ivan.get("/api/v1/accounts/relationships", id=hana_on_b["id"])[0]["following"],
        what="the immediate Accept",
    )
    with hana.api() as client:
        assert client.delete(f"/api/v1/connect_links/{link['code']}").status_code == 200


def _signed_post(peer_account: RemoteAccount, url: str, activity: dict[str, Any]) -> None:
    body = json.dumps(activity).encode()
    response = httpx.post(
        url, content=body, headers=peer_account.sign("POST", url, body), timeout=30
    )
    assert response.status_code == 202, response.text


def test_a_follow_without_note_is_bridged_by_direct_message(
    pair: tuple[Instance, Instance], peer: RemoteServer
) -> None:
    a, _ = pair
    jade = a.member("jade")
    profile(jade, **{"interests[]": ["pottery"]})
    kim = peer.add_account("kim")
    inbox = f"{a.url}/users/jade/inbox"
    follow_id = f"{kim.uri}/follows/{uuid.uuid4()}"
    _signed_post(
        kim, inbox, {"id": follow_id, "type": "Follow", "actor": kim.uri, "object": jade.uri}
    )
    # Mastodon-style: no note. A asks by direct message from its system account.
    ask = eventually(
        lambda: [
            r.json()
            for r in peer.received
            if r.json().get("type") == "Create" and "personal note" in r.json()["object"]["content"]
        ],
        what="the direct message asking for a note",
    )[0]
    assert ask["actor"].endswith("/users/fedinet")
    assert kim.uri in ask["object"]["to"] + ask["object"].get("cc", [])
    assert requests_of(jade) == []  # waiting for the note, not shown yet

    reply = {
        "id": f"{kim.uri}/statuses/{uuid.uuid4().int % 10**9}",
        "type": "Note",
        "attributedTo": kim.uri,
        "inReplyTo": ask["object"]["id"],
        "content": (
            f'<p><span class="h-card"><a href="{ask["actor"]}">@fedinet</a></span> '
            "I saw your pottery class photos and I have been throwing bowls for a year too!</p>"
        ),
        "to": [ask["actor"], jade.uri],
        "tag": [
            {"type": "Mention", "href": ask["actor"]},
            {"type": "Mention", "href": jade.uri},
        ],
    }
    _signed_post(
        kim,
        f"{a.url}/inbox",
        {
            "id": reply["id"] + "/activity",
            "type": "Create",
            "actor": kim.uri,
            "object": reply,
            "to": reply["to"],
        },
    )
    request = eventually(lambda: requests_of(jade), what="the completed request")[0]
    assert "pottery" in request["follow_request"]["note"]

    # jade rejects with a reason; it federates back in Reject.content
    jade.post(f"/api/v1/follow_requests/{request['id']}/reject", reason="I keep this small")
    reject = eventually(
        lambda: [r.json() for r in peer.received if r.json().get("type") == "Reject"],
        what="the Reject at the peer",
    )[0]
    assert "I keep this small" in reject.get("content", "")
    assert reject["object"]["id"] == follow_id


def test_a_generic_note_from_another_server_is_rejected_with_its_reason(
    pair: tuple[Instance, Instance], peer: RemoteServer
) -> None:
    a, _ = pair
    lena = a.member("lena")
    mo = peer.add_account("mo")
    follow_id = f"{mo.uri}/follows/{uuid.uuid4()}"
    _signed_post(
        mo,
        f"{a.url}/users/lena/inbox",
        {
            "id": follow_id,
            "type": "Follow",
            "actor": mo.uri,
            "object": lena.uri,
            "content": "<p>I'd like to add you to my professional network.</p>",
        },
    )
    reject = eventually(
        lambda: [
            r.json()
            for r in peer.received
            if r.json().get("type") == "Reject" and r.json()["object"]["id"] == follow_id
        ],
        what="the Reject with a reason",
    )[0]
    assert reject["refusalReason"] == "note_generic"
    assert reject["content"]
    assert requests_of(lena) == []


def test_private_motives_are_shown_to_accepted_followers_only(
    pair: tuple[Instance, Instance],
) -> None:
    a, _ = pair
    nia, omar, pia = a.member("nia"), a.member("omar"), a.member("pia")
    me = profile(nia, **{"motives[]": ["friendship", "spiritual"], "interests[]": ["tea"]})
    assert me["source"]["private_motives"] == ["spiritual"]
    note = "Hello nia, your posts about tea ceremonies have been a calm part of my week."
    follow(omar, me["id"], note=note)
    request = eventually(lambda: requests_of(nia), what="omar's request")[0]
    assert request["follow_request"]["note"] == note
    nia.post(f"/api/v1/follow_requests/{request['id']}/authorize")
    assert omar.get(f"/api/v1/accounts/{me['id']}")["motives"] == ["spiritual", "friendship"]
    assert pia.get(f"/api/v1/accounts/{me['id']}")["motives"] == ["friendship"]
    anonymous = httpx.get(f"{a.url}/api/v1/accounts/{me['id']}", timeout=30).json()
    assert anonymous["motives"] == ["friendship"]
