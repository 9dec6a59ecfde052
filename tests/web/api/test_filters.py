"""Filters: v2 CRUD with keywords and statuses, the v1 view, and ``filtered`` on the
statuses of timelines."""

from __future__ import annotations

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db.filters import Filter, FilterKeyword
from fedinet.runtime import Runtime
from fedinet.services.filters import match_filters
from tests.web.api.actions import accept, follow, person, post, token_with
from tests.web.api.schema import assert_matches


def _filter(*keywords: tuple[str, bool], contexts: tuple[str, ...] = ("home",)) -> Filter:
    return Filter(
        id=1,
        owner_id=1,
        title="t",
        contexts=list(contexts),
        filter_action="warn",
        expires_at=None,
        keywords=[FilterKeyword(i, 1, k, w) for i, (k, w) in enumerate(keywords)],
    )


@pytest.mark.parametrize(
    ("keyword", "whole_word", "text", "matches"),
    [
        ("cat", True, "a Cat here", True),
        ("cat", True, "concatenate", False),
        ("cat", False, "concatenate", True),
        ("#cats", True, "love #cats!", True),
        ("c++", True, "I write C++ daily", True),
        ("spoil", False, "", False),
    ],
)
def test_keyword_matching(keyword: str, whole_word: bool, text: str, matches: bool) -> None:
    found = match_filters([_filter((keyword, whole_word))], "home", 5, text)
    assert bool(found) is matches
    assert not match_filters([_filter((keyword, whole_word))], "public", 5, text)


async def test_v2_crud(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    made = await client.post(
        "/api/v2/filters",
        headers=alice.headers,
        json={
            "title": "Spoilers",
            "context": ["home", "public"],
            "filter_action": "warn",
            "expires_in": 3600,
            "keywords_attributes": [
                {"keyword": "finale", "whole_word": True},
                {"keyword": "season", "whole_word": False},
            ],
        },
    )
    assert made.status_code == 200, made.text
    body = made.json()
    assert_matches("Filter", body)
    assert [k["keyword"] for k in body["keywords"]] == ["finale", "season"]
    assert body["expires_at"] is not None and body["statuses"] == []
    filter_id = body["id"]

    form = await client.post(
        "/api/v2/filters",
        headers=alice.headers,
        data={
            "title": "Form",
            "context[]": ["thread"],
            "filter_action": "hide",
            "keywords_attributes[][keyword]": "x",
        },
    )
    assert form.status_code == 200, form.text
    assert [k["keyword"] for k in form.json()["keywords"]] == ["x"]
    assert form.json()["keywords"][0]["whole_word"] is True

    season = body["keywords"][1]
    changed = await client.put(
        f"/api/v2/filters/{filter_id}",
        headers=alice.headers,
        json={
            "title": "Spoilers!",
            "filter_action": "hide",
            "expires_in": "",
            "keywords_attributes": [
                {"id": season["id"], "_destroy": True},
                {"keyword": "episode"},
            ],
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Spoilers!" and changed.json()["expires_at"] is None
    assert [k["keyword"] for k in changed.json()["keywords"]] == ["finale", "episode"]
    assert (
        await client.get(f"/api/v2/filters/{filter_id}", headers=alice.headers)
    ).json() == changed.json()
    assert len((await client.get("/api/v2/filters", headers=alice.headers)).json()) == 2

    # keywords one by one
    keyword = await client.post(
        f"/api/v2/filters/{filter_id}/keywords",
        headers=alice.headers,
        data={"keyword": "plot", "whole_word": "false"},
    )
    assert keyword.status_code == 200
    assert_matches("FilterKeyword", keyword.json())
    keyword_id = keyword.json()["id"]
    updated = await client.put(
        f"/api/v2/filters/keywords/{keyword_id}",
        headers=alice.headers,
        data={"keyword": "plot twist"},
    )
    assert updated.json()["keyword"] == "plot twist" and updated.json()["whole_word"] is False
    assert (
        await client.get(f"/api/v2/filters/keywords/{keyword_id}", headers=alice.headers)
    ).json() == updated.json()
    assert (
        len(
            (
                await client.get(f"/api/v2/filters/{filter_id}/keywords", headers=alice.headers)
            ).json()
        )
        == 3
    )
    assert (
        await client.delete(f"/api/v2/filters/keywords/{keyword_id}", headers=alice.headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v2/filters/keywords/{keyword_id}", headers=alice.headers)
    ).status_code == 404

    # statuses
    status = await post(client, bob, "some post")
    entry = await client.post(
        f"/api/v2/filters/{filter_id}/statuses",
        headers=alice.headers,
        data={"status_id": status["id"]},
    )
    assert entry.status_code == 200
    assert_matches("FilterStatus", entry.json())
    again = await client.post(
        f"/api/v2/filters/{filter_id}/statuses",
        headers=alice.headers,
        data={"status_id": status["id"]},
    )
    assert again.status_code == 422
    assert (
        await client.get(f"/api/v2/filters/{filter_id}/statuses", headers=alice.headers)
    ).json() == [entry.json()]
    assert (
        await client.get(f"/api/v2/filters/statuses/{entry.json()['id']}", headers=alice.headers)
    ).json() == entry.json()
    assert (
        await client.delete(f"/api/v2/filters/statuses/{entry.json()['id']}", headers=alice.headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v2/filters/{filter_id}/statuses", headers=alice.headers)
    ).json() == []

    # bob sees none of it
    for path in (
        f"/api/v2/filters/{filter_id}",
        f"/api/v2/filters/{filter_id}/keywords",
        f"/api/v2/filters/keywords/{body['keywords'][0]['id']}",
    ):
        assert (await client.get(path, headers=bob.headers)).status_code == 404
    assert (
        await client.put(
            f"/api/v2/filters/{filter_id}", headers=bob.headers, data={"title": "mine"}
        )
    ).status_code == 404
    stolen = await client.put(
        f"/api/v2/filters/{form.json()['id']}",
        headers=alice.headers,
        json={"keywords_attributes": [{"id": body["keywords"][0]["id"], "_destroy": True}]},
    )
    assert stolen.status_code == 404  # a keyword of another filter
    assert (await client.get("/api/v2/filters", headers=bob.headers)).json() == []

    for bad in (
        {"title": "", "context": ["home"]},
        {"title": "t", "context": []},
        {"title": "t", "context": ["everywhere"]},
        {"title": "t", "context": ["home"], "filter_action": "explode"},
        {"title": "t", "context": ["home"], "expires_in": "soon"},
        {"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": ""}]},
        {"title": "t", "context": ["home"], "keywords_attributes": "nope"},
    ):
        response = await client.post("/api/v2/filters", headers=alice.headers, json=bad)
        assert response.status_code == 422, bad

    assert (await client.get("/api/v2/filters")).status_code == 401
    reader = await token_with(client, alice, "read:filters")
    assert (await client.get("/api/v2/filters", headers=reader)).status_code == 200
    assert (await client.delete(f"/api/v2/filters/{filter_id}", headers=reader)).status_code == 403
    assert (
        await client.get("/api/v2/filters", headers=await token_with(client, alice, "read:lists"))
    ).status_code == 403

    assert (
        await client.delete(f"/api/v2/filters/{filter_id}", headers=alice.headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v2/filters/{filter_id}", headers=alice.headers)
    ).status_code == 404


async def test_v1_view(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    made = await client.post(
        "/api/v1/filters",
        headers=alice.headers,
        data={
            "phrase": "taxes",
            "context[]": ["home", "notifications"],
            "irreversible": "true",
            "whole_word": "false",
        },
    )
    assert made.status_code == 200, made.text
    assert_matches("V1Filter", made.json())
    assert made.json()["irreversible"] is True and made.json()["whole_word"] is False
    v2 = (await client.get("/api/v2/filters", headers=alice.headers)).json()
    assert v2[0]["title"] == "taxes" and v2[0]["filter_action"] == "hide"
    assert v2[0]["keywords"][0]["id"] == made.json()["id"]

    v1_id = made.json()["id"]
    changed = await client.put(
        f"/api/v1/filters/{v1_id}",
        headers=alice.headers,
        data={"phrase": "tax", "context[]": ["public"], "irreversible": "false"},
    )
    assert changed.status_code == 200
    assert changed.json()["phrase"] == "tax" and changed.json()["context"] == ["public"]
    assert changed.json()["irreversible"] is False
    assert (
        await client.get(f"/api/v1/filters/{v1_id}", headers=alice.headers)
    ).json() == changed.json()
    assert [
        f["id"] for f in (await client.get("/api/v1/filters", headers=alice.headers)).json()
    ] == [v1_id]
    assert (await client.get(f"/api/v1/filters/{v1_id}", headers=bob.headers)).status_code == 404
    assert (
        await client.post(
            "/api/v1/filters", headers=alice.headers, data={"phrase": "", "context[]": "home"}
        )
    ).status_code == 422
    assert (
        await client.post("/api/v1/filters", headers=alice.headers, data={"phrase": "x"})
    ).status_code == 422
    assert (
        await client.delete(f"/api/v1/filters/{v1_id}", headers=alice.headers)
    ).status_code == 200
    assert (await client.get("/api/v2/filters", headers=alice.headers)).json() == []


async def test_filtered_on_timelines(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    await follow(client, alice, bob)
    await accept(client, bob, alice)
    spoiler = await post(client, bob, "the finale was great")
    plain = await post(client, bob, "nothing to see")
    made = await client.post(
        "/api/v2/filters",
        headers=alice.headers,
        json={
            "title": "TV",
            "context": ["home"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "finale"}],
        },
    )
    filter_id = made.json()["id"]
    await client.post(
        f"/api/v2/filters/{filter_id}/statuses",
        headers=alice.headers,
        data={"status_id": plain["id"]},
    )

    home = {
        s["id"]: s
        for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()
    }
    assert_matches("FilterResult", home[spoiler["id"]]["filtered"][0])
    assert home[spoiler["id"]]["filtered"][0]["keyword_matches"] == ["finale"]
    assert home[spoiler["id"]]["filtered"][0]["filter"]["id"] == filter_id
    assert "keywords" not in home[spoiler["id"]]["filtered"][0]["filter"]
    assert home[plain["id"]]["filtered"][0]["status_matches"] == [plain["id"]]

    public = {
        s["id"]: s
        for s in (await client.get("/api/v1/timelines/public", headers=alice.headers)).json()
    }
    assert public[spoiler["id"]]["filtered"] == []  # the filter is for home only
    bob_home = {
        s["id"]: s for s in (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()
    }
    assert bob_home[spoiler["id"]]["filtered"] == []
