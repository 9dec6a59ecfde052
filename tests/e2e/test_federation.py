"""Real federation between fedinet processes on loopback, driven through the client API.

Two (and for the announce chain, three) ``fedinet serve`` processes, each with its own
database, talk over HTTP with signed requests; the tests act as members with OAuth
tokens, as an app would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import DatabaseFactory
from tests.helpers.cluster import Instance, eventually, follow_and_accept


@pytest.fixture(scope="module")
def cluster(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Instance]]:
    instances = {}
    for name in ("a", "b", "c"):
        workdir = tmp_path_factory.mktemp(f"instance-{name}")
        instances[name] = Instance(name, module_database(), workdir).start()
    try:
        yield instances
    finally:
        for instance in instances.values():
            instance.stop()


def texts(statuses: list[dict[str, object]]) -> list[str]:
    return [str(s["content"]) for s in statuses]


def test_follow_post_reply_like_boost_edit_delete(cluster: dict[str, Instance]) -> None:
    a, b = cluster["a"], cluster["b"]
    alice, bob = a.member("alice"), b.member("bob")
    bob_on_a = follow_and_accept(alice, bob)
    assert bob_on_a["acct"] == bob.acct

    # bob posts; it reaches alice's home feed on A
    post = bob.post("/api/v1/statuses", status="Hello from B, #gardening friends!")
    arrived = eventually(
        lambda: [s for s in alice.home() if "Hello from B" in str(s["content"])],
        what="bob's post on A",
    )[0]
    assert arrived["account"]["acct"] == bob.acct
    assert arrived["uri"] == post["uri"]

    # alice replies, likes and boosts; bob sees each on B
    alice.post(
        "/api/v1/statuses",
        status=f"@{bob.acct} lovely to see you here",
        in_reply_to_id=arrived["id"],
    )
    alice.post(f"/api/v1/statuses/{arrived['id']}/favourite")
    alice.post(f"/api/v1/statuses/{arrived['id']}/reblog")

    def counted() -> dict[str, object] | None:
        seen = bob.get(f"/api/v1/statuses/{post['id']}")
        if seen["favourites_count"] == 1 and seen["reblogs_count"] == 1:
            return seen
        return None

    eventually(counted, what="the like and the boost on B")
    eventually(
        lambda: [s for s in bob.home() if "lovely to see you" in str(s["content"])],
        what="alice's reply in bob's feed (he is mentioned)",
    )

    # bob edits; the edit reaches A
    bob.put(f"/api/v1/statuses/{post['id']}", status="Hello from B, edited")
    eventually(
        lambda: "edited" in str(alice.get(f"/api/v1/statuses/{arrived['id']}")["content"]),
        what="the edit on A",
    )

    # bob deletes; it disappears from A
    bob.delete(f"/api/v1/statuses/{post['id']}")
    eventually(
        lambda: not [s for s in alice.home() if s["uri"] == post["uri"]],
        what="the deletion on A",
    )


def test_unfollow_and_block(cluster: dict[str, Instance]) -> None:
    a, b = cluster["a"], cluster["b"]
    carol, dave = a.member("carol"), b.member("dave")
    dave_on_a = follow_and_accept(carol, dave)
    carol_on_b = dave.find(carol)

    carol.post(f"/api/v1/accounts/{dave_on_a['id']}/unfollow")
    eventually(
        lambda: (
            dave.get("/api/v1/accounts/relationships", id=carol_on_b["id"])[0]["followed_by"]
            is False
        ),
        what="the Undo(Follow) on B",
    )
    dave.post("/api/v1/statuses", status="after the unfollow")

    # follow again, then dave blocks carol: the follow is gone on both sides
    follow_and_accept(carol, dave)
    dave.post(f"/api/v1/accounts/{carol_on_b['id']}/block")
    eventually(
        lambda: (
            carol.get("/api/v1/accounts/relationships", id=dave_on_a["id"])[0]["following"] is False
        ),
        what="the Block on A",
    )
    relationship = carol.get("/api/v1/accounts/relationships", id=dave_on_a["id"])[0]
    assert relationship["blocked_by"] is True
    assert "after the unfollow" not in texts(carol.home())


def test_three_instance_announce_and_delete_chain(cluster: dict[str, Instance]) -> None:
    a, b, c = cluster["a"], cluster["b"], cluster["c"]
    erin, frank, gina = a.member("erin"), b.member("frank"), c.member("gina")
    follow_and_accept(erin, gina)  # erin@A follows gina@C
    post = frank.post("/api/v1/statuses", status="Frank's original post on B")
    # gina@C finds frank's post by URL (fetched from B) and boosts it
    found = gina.get("/api/v2/search", q=post["uri"], resolve="true")["statuses"]
    assert found, "C could not fetch the post from B"
    gina.post(f"/api/v1/statuses/{found[0]['id']}/reblog")

    # A receives the Announce, fetches the original from B, shows the boost to erin
    boost = eventually(
        lambda: [s for s in erin.home() if s.get("reblog") and s["reblog"]["uri"] == post["uri"]],
        what="the boost on A",
    )[0]
    assert boost["account"]["acct"] == gina.acct
    assert boost["reblog"]["account"]["acct"] == frank.acct

    # gina undoes the boost: it leaves erin's feed
    gina.post(f"/api/v1/statuses/{found[0]['id']}/unreblog")
    eventually(
        lambda: not [s for s in erin.home() if s.get("reblog")],
        what="the Undo(Announce) on A",
    )


def test_a_deletion_reaches_servers_that_only_saw_a_boost(cluster: dict[str, Instance]) -> None:
    a, b, c = cluster["a"], cluster["b"], cluster["c"]
    hana, ivo, jon = a.member("hana"), b.member("ivo"), c.member("jon")
    follow_and_accept(hana, jon)  # hana@A follows jon@C; nobody on A follows ivo@B
    post = ivo.post("/api/v1/statuses", status="Ivo's post that will be deleted")
    found = jon.get("/api/v2/search", q=post["uri"], resolve="true")["statuses"]
    jon.post(f"/api/v1/statuses/{found[0]['id']}/reblog")
    eventually(
        lambda: [s for s in hana.home() if s.get("reblog") and s["reblog"]["uri"] == post["uri"]],
        what="the boost on A",
    )
    # B knows A fetched the post (signed fetch), so the Delete reaches A as well as C.
    ivo.delete(f"/api/v1/statuses/{post['id']}")
    eventually(
        lambda: (
            not [s for s in hana.home() if s.get("reblog") and s["reblog"]["uri"] == post["uri"]]
        ),
        what="the deletion on A",
    )
    eventually(
        lambda: not [s for s in jon.home() if s.get("reblog")],
        what="the deletion on C",
    )
