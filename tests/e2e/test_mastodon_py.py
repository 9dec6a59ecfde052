"""Two fedinet instances, driven with the real Mastodon.py client.

A member of instance A finds a member of instance B with ``search?resolve=true``, asks to
follow (with fedinet's personal note), B accepts through ``follow_request_authorize``, and
B's posts arrive in A's home timeline. A status of B is resolved by its URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError

from tests.conftest import DatabaseFactory
from tests.helpers.cluster import Instance, Member, eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance]]:
    a = Instance("a", module_database(), tmp_path_factory.mktemp("mpy-a")).start()
    try:
        b = Instance("b", module_database(), tmp_path_factory.mktemp("mpy-b")).start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


def client(member: Member) -> Mastodon:
    return Mastodon(
        access_token=member.token,
        api_base_url=member.instance.url,
        version_check_mode="none",
        request_timeout=30,
    )


def follow_with_note(member: Member, account_id: str, note: str) -> dict[str, object]:
    """``POST /api/v1/accounts/:id/follow`` with fedinet's ``note`` extension.

    Mastodon.py's ``account_follow`` has no parameter for it, so this one request is made
    with the same token over plain HTTP.
    """
    with member.api() as http:
        response = http.post(f"/api/v1/accounts/{account_id}/follow", data={"note": note})
    assert response.status_code == 200, response.text
    relationship: dict[str, object] = response.json()
    return relationship


def test_follow_a_remote_member_found_by_search_and_read_their_posts(
    cluster: tuple[Instance, Instance],
) -> None:
    a, b = cluster
    alice, bob = a.member("alice"), b.member("bob")
    alice_api, bob_api = client(alice), client(bob)

    found = alice_api.search_v2(f"@{bob.acct}", resolve=True)
    assert [acc.acct for acc in found.accounts] == [bob.acct]
    bob_on_a = found.accounts[0]
    assert bob_on_a.url.startswith(b.url)

    # Mastodon.py's own follow carries no note: bob's default policy refuses it, with why
    with pytest.raises(MastodonAPIError, match="note"):
        alice_api.account_follow(bob_on_a.id)

    relationship = follow_with_note(
        alice,
        bob_on_a.id,
        f"Hi bob! I found you on {b.domain} and would love to read about your garden.",
    )
    assert relationship["requested"] is True and relationship["following"] is False

    def request_arrived() -> list[object]:
        return [r for r in bob_api.follow_requests() if r.acct == alice.acct]

    requester = eventually(request_arrived, what="alice's follow request on B")[0]
    authorized = bob_api.follow_request_authorize(requester)
    assert authorized.followed_by is True

    eventually(
        lambda: alice_api.account_relationships(bob_on_a.id)[0].following,
        what="the Accept on A",
    )

    posted = bob_api.status_post("Seedlings are up in the greenhouse", visibility="public")

    def arrived() -> list[object]:
        return [s for s in alice_api.timeline_home() if s.uri == posted.uri]

    status = eventually(arrived, what="bob's post in alice's home timeline")[0]
    assert status.account.acct == bob.acct
    assert "Seedlings are up" in status.content

    # A status of someone alice does not follow, resolved on A by its URL
    carol = b.member("carol")
    carol_post = client(carol).status_post("Swapping tomato seeds this weekend")
    resolved = alice_api.search_v2(carol_post.url, resolve=True)
    assert [s.uri for s in resolved.statuses] == [carol_post.uri]
    assert resolved.statuses[0].account.acct == carol.acct
    assert "tomato seeds" in resolved.statuses[0].content

    # without resolve, a server looks nothing up on another server
    unknown = b.member("dave")
    assert alice_api.search_v2(f"@{unknown.acct}", resolve=False).accounts == []
    anonymous = httpx.get(
        f"{a.url}/api/v2/search", params={"q": f"@{unknown.acct}", "resolve": "true"}
    )
    assert anonymous.status_code == 200 and anonymous.json()["accounts"] == []
