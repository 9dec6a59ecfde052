from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fedinet.ap.context import ACTIVITYSTREAMS, PUBLIC
from fedinet.ap.notes import (
    MAX_CONTENT_CHARS,
    NOTE_CONTEXT,
    ParsedNote,
    addressing_for,
    ap_to_note,
    attachment_kind,
    note_to_ap,
)
from fedinet.ap.sanitize import html_to_text, text_to_html
from fedinet.errors import BadActivity
from fedinet.models import Actor, Status

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://fedinet.test"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def fixture(name: str) -> dict[str, Any]:
    doc = json.loads(FIXTURES.joinpath(name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def post_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The Note of a Create/Update fixture, or the fixture itself."""
    obj = doc["object"] if doc.get("type") in ("Create", "Update") else doc
    assert isinstance(obj, dict)
    return obj


def parse(name: str, followers: str | None = None) -> ParsedNote:
    doc = fixture(name)
    obj = post_of(doc)
    actor = obj["attributedTo"]
    return ap_to_note(
        obj,
        actor_uri=actor,
        followers_uri=followers if followers is not None else f"{actor}/followers",
        received_at=NOW,
        activity=doc if doc is not obj else None,
    )


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --------------------------------------------------------------------------- real posts

# (file, followers collection (None: actor + "/followers"), type, visibility, language,
#  inReplyTo, mentions, hashtags, number of attachments, published)
REAL = [
    (
        "mastodon_create_note.json",
        None,
        "Note",
        "unlisted",
        "en",
        "https://mamot.fr/users/retiolus/statuses/107224244380204526",
        ("https://mamot.fr/users/retiolus",),
        (),
        0,
        "2021-11-05T11:46:50",
    ),
    (
        "mastodon_private_message.json",
        None,
        "Note",
        "direct",
        "es",
        "https://mastodon.world/users/nutomic/statuses/110854464248188528",
        ("https://ds9.lemmy.ml/u/nutomic",),
        (),
        0,
        "2023-08-08T14:29:04",
    ),
    (
        "mastodon_note_attachment.json",
        None,
        "Note",
        "public",
        "en",
        "https://floss.social/users/kde/statuses/113306824627995724",
        ("https://lemmy.kde.social/c/kde",),
        (),
        1,
        "2024-10-14T16:57:15",
    ),
    (
        "mastodon_note_to_community.json",
        None,
        "Note",
        "public",
        "it",
        None,
        ("https://enterprise.lemmy.ml/c/tenforward",),
        (),
        0,
        "2023-08-04T09:55:39",
    ),
    (
        "mastodon_create_note_to_community.json",
        None,
        "Note",
        "public",
        "fr",
        None,
        ("https://lemmy.qa.urbanwildlife.biz/c/lemmy_community",),
        (),
        0,
        "2023-05-26T16:45:48",
    ),
    (
        "pleroma_create_note.json",
        None,
        "Note",
        "public",
        None,
        "https://enterprise.lemmy.ml/post/55143",
        ("https://enterprise.lemmy.ml/u/picard",),
        (),
        0,
        "2021-10-26T10:28:35.602455",
    ),
    (
        "pleroma_note.json",
        None,
        "Note",
        "unlisted",
        None,
        "https://enterprise.lemmy.ml/post/55143",
        ("https://pleroma.popolon.org/users/popolon",),
        (),
        0,
        "2021-10-07T18:06:52.555500",
    ),
    (
        "friendica_create_note.json",
        "https://soc.schuerz.at/followers/jakob",
        "Note",
        "public",
        "de",
        "https://lemmy.schuerz.at/post/25360",
        ("https://lemmy.schuerz.at/u/jakob",),
        (),
        0,
        "2022-01-23T20:21:24",
    ),
    (
        "friendica_note_hashtags.json",
        "https://nerdica.net/followers/liwott",
        "Note",
        "public",
        "en",
        "https://lemmy.ml/comment/167904",
        ("https://lemmy.ml/u/Liwott",),
        ("friendica", "lemmy"),
        0,
        "2022-04-25T18:35:37",
    ),
    (
        "friendica_create_article.json",
        "https://pirati.ca/followers/heluecht",
        "Article",
        "unlisted",
        "de",
        None,
        ("https://ds9.lemmy.ml/c/testcom",),
        (),
        0,
        "2022-03-24T04:23:44",
    ),
    (
        "friendica_page.json",
        "https://pirati.ca/followers/heluecht",
        "Page",
        "unlisted",
        "de",
        None,
        ("https://ds9.lemmy.ml/c/testcom",),
        (),
        0,
        "2022-03-24T07:17:21",
    ),
    (
        "friendica_update_note.json",
        "https://pirati.ca/followers/heluecht",
        "Note",
        "unlisted",
        "de",
        "https://pirati.ca/objects/ec054ce7-2062-3bfa-8687-ca8313624820",
        ("https://pirati.ca/profile/test8", "https://ds9.lemmy.ml/c/testcom"),
        (),
        0,
        "2022-03-24T07:22:36",
    ),
    (
        "mitra_create_note.json",
        None,
        "Note",
        "public",
        "da",
        None,
        (),
        (),
        0,
        "2026-07-12T19:30:38.521875",
    ),
    (
        "smithereen_create_note.json",
        None,
        "Note",
        "public",
        None,
        "https://ds9.lemmy.ml/post/1723",
        ("https://ds9.lemmy.ml/u/nutomic",),
        (),
        0,
        "2021-11-09T11:42:35",
    ),
]


@pytest.mark.parametrize(
    (
        "name",
        "followers",
        "object_type",
        "visibility",
        "language",
        "in_reply_to",
        "mentions",
        "hashtags",
        "attachments",
        "published",
    ),
    REAL,
)
def test_real_posts(
    name: str,
    followers: str | None,
    object_type: str,
    visibility: str,
    language: str | None,
    in_reply_to: str | None,
    mentions: tuple[str, ...],
    hashtags: tuple[str, ...],
    attachments: int,
    published: str,
) -> None:
    note = parse(name, followers)
    obj = post_of(fixture(name))
    assert note.uri == obj["id"]
    assert note.attributed_to == obj["attributedTo"]
    assert note.object_type == object_type
    assert note.visibility == visibility
    assert note.language == language
    assert note.in_reply_to == in_reply_to
    assert note.mentions == mentions
    assert note.hashtags == hashtags
    assert len(note.attachments) == attachments
    assert note.published == ts(published)
    assert note.summary == ""
    assert note.sensitive is False
    assert note.raw == obj
    assert note.content
    assert "<script" not in note.content
    assert PUBLIC in note.to + note.cc or visibility in ("private", "direct")


def test_every_reference_post_fixture_is_covered() -> None:
    covered = {row[0] for row in REAL}
    posts = {
        p.name
        for p in FIXTURES.glob("*.json")
        if (doc := json.loads(p.read_text(encoding="utf-8"))).get("type") in ("Note", "Page")
        or (doc.get("type") in ("Create", "Update") and isinstance(doc.get("object"), dict))
    }
    assert posts == covered


def test_mastodon_attachment_is_read_whole() -> None:
    note = parse("mastodon_note_attachment.json")
    assert note.attachments == (
        {
            "type": "Document",
            "media_type": "image/jpeg",
            "url": "https://cdn.masto.host/floss/media_attachments/files/113/306/826/682/985/"
            "891/original/c8d906a2f2ab2334.jpg",
            "description": "The KDE dragons Katie and Konqi stand on either side of a pot "
            "filling up with gold coins. Donate!",
            "width": 1500,
            "height": 1095,
            "blurhash": "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc",
        },
    )
    assert note.url == "https://floss.social/@kde/113306831140126616"
    assert note.to == (PUBLIC,)
    assert note.cc == (
        "https://floss.social/users/kde/followers",
        "https://lemmy.kde.social/c/kde",
        "https://lemmy.kde.social/c/kde/followers",
    )


def test_mastodon_content_is_preferred_over_content_map() -> None:
    # The fixture's contentMap lost some spaces; content is what counts.
    note = parse("mastodon_create_note.json")
    assert "i have never been disappointed" in note.content
    assert note.content.startswith('<p><span class="h-card"><a href="https://mamot.fr/@retiolus"')


def test_friendica_hashtags_and_markup() -> None:
    note = parse("friendica_note_hashtags.json", "https://nerdica.net/followers/liwott")
    assert 'class="mention hashtag"' in note.content
    assert "<div" not in note.content and "<h3" not in note.content
    assert "<blockquote>" in note.content
    text = html_to_text(note.content)
    assert text.startswith("Note that on #Friendica we can")


def test_friendica_article_title_goes_in_front_of_content() -> None:
    note = parse("friendica_create_article.json", "https://pirati.ca/followers/heluecht")
    assert note.title == "From Friendica to Lemmy"
    assert note.content == "<p><strong>From Friendica to Lemmy</strong></p>Hello Lemmy!"
    assert note.url == "https://pirati.ca/display/ec054ce7-5162-3bf2-504c-16d024994850"


def test_friendica_link_page_gets_its_link_and_no_foreign_url() -> None:
    note = parse("friendica_page.json", "https://pirati.ca/followers/heluecht")
    assert note.title == "ISS astronauts perform final spacewalk of Expedition 66"
    assert note.url is None  # the url is on another server
    assert note.content.endswith(
        '<p><a href="https://www.nasaspaceflight.com/2022/03/us-eva-80/" target="_blank" '
        'rel="nofollow noopener noreferrer">https://www.nasaspaceflight.com/2022/03/us-eva-80/'
        "</a></p>"
    )


def test_friendica_update_has_updated() -> None:
    note = parse("friendica_update_note.json", "https://pirati.ca/followers/heluecht")
    assert note.updated == ts("2022-03-24T21:37:34")


def test_pleroma_null_sensitive_and_empty_summary() -> None:
    note = parse("pleroma_note.json")
    assert note.sensitive is False
    assert note.summary == ""
    assert note.url is None
    assert note.content == "Have what?"


def test_smithereen_mention_without_name() -> None:
    assert parse("smithereen_create_note.json").mentions == ("https://ds9.lemmy.ml/u/nutomic",)


def test_missing_audience_falls_back_to_the_activity() -> None:
    doc = fixture("mitra_create_note.json")
    obj = copy.deepcopy(doc["object"])
    del obj["to"], obj["cc"]
    actor = doc["actor"]
    without = ap_to_note(obj, actor_uri=actor, followers_uri=None, received_at=NOW)
    assert without.visibility == "direct" and without.to == () and without.cc == ()
    with_activity = ap_to_note(
        obj, actor_uri=actor, followers_uri=None, received_at=NOW, activity=doc
    )
    assert with_activity.visibility == "public"
    assert with_activity.to == (PUBLIC, "https://voyager.lemmy.ml/c/pubtest0906")


# --------------------------------------------------------------------------- visibility

ACTOR = "https://remote.example/users/ann"
FOLLOWERS = f"{ACTOR}/followers"
MENTIONED = "https://other.example/users/bob"


def minimal(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "https://remote.example/notes/1",
        "type": "Note",
        "attributedTo": ACTOR,
        "content": "<p>hello</p>",
        "published": "2024-01-01T00:00:00Z",
    }
    obj.update(extra)
    return obj


def read(obj: Any, **kwargs: Any) -> ParsedNote:
    kwargs.setdefault("actor_uri", ACTOR)
    kwargs.setdefault("followers_uri", FOLLOWERS)
    kwargs.setdefault("received_at", NOW)
    return ap_to_note(obj, **kwargs)


@pytest.mark.parametrize(
    ("to", "cc", "visibility"),
    [
        ([PUBLIC], [FOLLOWERS], "public"),
        (["as:Public"], [], "public"),
        (["Public"], [], "public"),
        (PUBLIC, None, "public"),
        ([FOLLOWERS], [PUBLIC, MENTIONED], "unlisted"),
        ([FOLLOWERS], ["as:Public"], "unlisted"),
        ([FOLLOWERS], [MENTIONED], "private"),
        ([MENTIONED], [FOLLOWERS], "private"),
        ([MENTIONED], [], "direct"),
        ([{"id": MENTIONED, "type": "Person"}], [], "direct"),
        ([], [], "direct"),
    ],
)
def test_visibility(to: Any, cc: Any, visibility: str) -> None:
    note = read(minimal(to=to, cc=cc))
    assert note.visibility == visibility
    assert "as:Public" not in note.to + note.cc and "Public" not in note.to + note.cc


def test_followers_unknown_means_direct() -> None:
    assert read(minimal(to=[FOLLOWERS]), followers_uri=None).visibility == "direct"


# --------------------------------------------------------------------------- rejections


def test_not_an_object() -> None:
    with pytest.raises(BadActivity, match="JSON object"):
        read(["not", "an", "object"])


def test_missing_id() -> None:
    obj = minimal()
    del obj["id"]
    with pytest.raises(BadActivity, match="has no id"):
        read(obj)


def test_id_not_a_url() -> None:
    with pytest.raises(BadActivity, match="not an absolute http"):
        read(minimal(id="urn:uuid:1234"))


def test_foreign_id_host() -> None:
    with pytest.raises(BadActivity, match=r"not on remote\.example") as caught:
        read(minimal(id="https://evil.example/notes/1"))
    assert caught.value.reason == "id_host_mismatch"


@pytest.mark.parametrize(
    "attributed",
    ["https://remote.example/users/mallory", None, [], {"id": "https://x.example/u"}],
)
def test_wrong_attributed_to(attributed: Any) -> None:
    with pytest.raises(BadActivity, match="attributed to") as caught:
        read(minimal(attributedTo=attributed))
    assert caught.value.reason == "attribution_mismatch"


@pytest.mark.parametrize(
    "attributed",
    [
        ACTOR,
        {"id": ACTOR, "type": "Person"},
        [{"id": "https://remote.example/groups/g", "type": "Group"}, ACTOR],
    ],
)
def test_attributed_to_forms(attributed: Any) -> None:
    assert read(minimal(attributedTo=attributed)).attributed_to == ACTOR


@pytest.mark.parametrize("kind", ["ChatMessage", "Person", "Create", None, ["Image"]])
def test_unsupported_type(kind: Any) -> None:
    with pytest.raises(BadActivity, match="not a post") as caught:
        read(minimal(type=kind))
    assert caught.value.reason == "unsupported_object"


def test_pleroma_chat_message_is_refused() -> None:
    obj = fixture("pleroma_chat_message.json")
    with pytest.raises(BadActivity, match="ChatMessage"):
        ap_to_note(obj, actor_uri=obj["attributedTo"], followers_uri=None)


def test_type_list_is_accepted() -> None:
    assert read(minimal(type=["Note", "fedibird:Something"])).object_type == "Note"


def test_oversized_content() -> None:
    with pytest.raises(BadActivity, match="characters of content"):
        read(minimal(content="x" * (MAX_CONTENT_CHARS + 1)))


def test_content_with_script_is_sanitised() -> None:
    note = read(
        minimal(
            content='<p>hi<script>alert(1)</script><img src=x onerror="alert(1)">'
            '<a href="javascript:alert(1)">x</a></p>',
            summary="<b>CW</b><script>alert(1)</script> &amp; more",
        )
    )
    assert note.content == "<p>hix</p>"
    assert note.summary == "CW & more"
    assert note.sensitive is True  # a content warning makes it sensitive


# --------------------------------------------------------------------------- details


def test_content_map_fallback_and_language() -> None:
    obj = minimal(contentMap={"pt-BR": "<p>olá</p>"})
    del obj["content"]
    note = read(obj)
    assert note.content == "<p>olá</p>"
    assert note.language == "pt-BR"
    assert read(minimal(contentMap={"und": "x"})).language is None
    assert read(minimal(contentMap={"<bad>": "x"})).language is None


def test_published_missing_or_in_the_future() -> None:
    obj = minimal()
    del obj["published"]
    assert read(obj).published == NOW
    assert read(minimal(published="not a date")).published == NOW
    assert read(minimal(published="2999-01-01T00:00:00Z")).published == NOW
    assert read(minimal(published="2024-05-06T07:08:09+02:00")).published == datetime(
        2024, 5, 6, 5, 8, 9, tzinfo=UTC
    )
    default = ap_to_note(obj, actor_uri=ACTOR, followers_uri=None)
    assert abs(default.published - datetime.now(UTC)) < timedelta(minutes=1)


def test_in_reply_to_as_object() -> None:
    parent = "https://other.example/notes/9"
    assert read(minimal(inReplyTo={"id": parent, "type": "Note"})).in_reply_to == parent
    assert read(minimal(inReplyTo="not a url")).in_reply_to is None


def test_sensitive_flag() -> None:
    assert read(minimal(sensitive=True)).sensitive is True
    assert read(minimal(sensitive="true")).sensitive is False


def test_attachments_keep_only_http_links() -> None:
    note = read(
        minimal(
            attachment=[
                {"type": "Image", "url": "javascript:alert(1)"},
                {"type": "Document", "url": "data:image/png;base64,AAAA"},
                {
                    "type": "Video",
                    "url": [
                        {"type": "Link", "mediaType": "video/mp4", "href": "https://cdn.example/v"}
                    ],
                    "summary": "a video",
                    "width": True,
                    "height": -3,
                },
                {"type": "Link", "href": "https://example.com/article", "mediaType": "text/html"},
                "https://bare.example/string-is-not-an-attachment",
                {"type": "PropertyValue", "name": "x"},
            ]
        )
    )
    assert note.attachments == (
        {
            "type": "Video",
            "media_type": None,
            "url": "https://cdn.example/v",
            "description": "a video",
            "width": None,
            "height": None,
            "blurhash": None,
        },
        {
            "type": "Link",
            "media_type": "text/html",
            "url": "https://example.com/article",
            "description": None,
            "width": None,
            "height": None,
            "blurhash": None,
        },
    )


def test_tags() -> None:
    note = read(
        minimal(
            tag=[
                {"type": "Mention", "href": MENTIONED, "name": "@bob@other.example"},
                {"type": "Mention", "href": MENTIONED},
                {"type": "Mention", "href": "javascript:alert(1)"},
                {"type": "Hashtag", "href": "https://x.example/tags/café", "name": "#Café"},
                {"type": "Hashtag", "name": "#CAFÉ"},
                {"type": "Hashtag", "name": "#Straße"},
                {"type": "Hashtag", "name": "#"},
                {"type": "Emoji", "name": ":blob:"},
                "not a tag",
            ]
        )
    )
    assert note.mentions == (MENTIONED,)
    assert note.hashtags == ("café", "strasse")


def test_question_options_become_lines() -> None:
    note = read(
        minimal(
            type="Question",
            content="<p>Tea or coffee?</p>",
            oneOf=[
                {"type": "Note", "name": "Tea", "replies": {"type": "Collection", "totalItems": 3}},
                {"type": "Note", "name": "<b>Coffee</b>"},
            ],
        )
    )
    assert note.object_type == "Question"
    assert note.poll_options == ("Tea", "<b>Coffee</b>")
    assert note.content == "<p>Tea or coffee?</p><p>○ Tea<br>○ &lt;b&gt;Coffee&lt;/b&gt;</p>"
    multiple = read(minimal(type="Question", anyOf=[{"name": "A"}, {"name": "B"}]))
    assert multiple.content.endswith("<p>☐ A<br>☐ B</p>")


def test_url_on_another_host_is_not_trusted_for_notes() -> None:
    assert read(minimal(url="https://phish.example/x")).url is None
    assert (
        read(
            minimal(
                url=[
                    {
                        "type": "Link",
                        "mediaType": "application/json",
                        "href": "https://remote.example/a",
                    },
                    {"type": "Link", "mediaType": "text/html", "href": "https://remote.example/h"},
                ]
            )
        ).url
        == "https://remote.example/h"
    )


# --------------------------------------------------------------------------- emitting


def local_actor(username: str = "alice") -> Actor:
    uri = f"{BASE}/users/{username}"
    return Actor(
        id=1,
        uri=uri,
        is_local=True,
        actor_type="Person",
        username=username,
        domain="fedinet.test",
        followers_uri=f"{uri}/followers",
    )


def remote_actor(n: int) -> Actor:
    return Actor(
        id=100 + n,
        uri=f"https://remote{n}.example/users/r{n}",
        is_local=False,
        actor_type="Person",
        username=f"r{n}",
        domain=f"remote{n}.example",
        url=f"https://remote{n}.example/@r{n}",
    )


def local_status(visibility: str, **changes: Any) -> Status:
    mentions = {f"r{n}@remote{n}.example": f"https://remote{n}.example/@r{n}" for n in (1, 2)}
    content = text_to_html(
        "Hello @r1@remote1.example and @r2@remote2.example #Fedi #café https://example.com",
        mentions=mentions,
        base_url=BASE,
    )
    status = Status(
        id=111,
        uri=f"{BASE}/users/alice/statuses/111",
        actor_id=1,
        is_local=True,
        visibility=visibility,
        content=content,
        summary="",
        language="en",
        published=datetime(2024, 9, 12, 10, 11, 12, 987, tzinfo=UTC),
        attachments=[
            {
                "type": "Image",
                "media_type": "image/png",
                "url": f"{BASE}/media/1.png",
                "description": "a cat",
                "width": 640,
                "height": 480,
                "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            }
        ],
    )
    return replace(status, **changes)


def test_note_to_ap_public_shape() -> None:
    author = local_actor()
    mentions = [remote_actor(1), remote_actor(2), remote_actor(1)]
    note = note_to_ap(
        local_status("public"),
        author,
        mentions=mentions,
        tags=["fedi", "café"],
        in_reply_to_uri="https://remote1.example/notes/5",
        base_url=BASE,
    )
    assert note["@context"] == NOTE_CONTEXT
    assert note["@context"][0] == ACTIVITYSTREAMS
    assert note["id"] == f"{BASE}/users/alice/statuses/111"
    assert note["type"] == "Note"
    assert note["summary"] is None
    assert note["inReplyTo"] == "https://remote1.example/notes/5"
    assert note["published"] == "2024-09-12T10:11:12Z"
    assert note["url"] == f"{BASE}/@alice/111"
    assert note["attributedTo"] == author.uri
    assert note["to"] == [PUBLIC]
    assert note["cc"] == [
        f"{BASE}/users/alice/followers",
        "https://remote1.example/users/r1",
        "https://remote2.example/users/r2",
    ]
    assert note["sensitive"] is False
    assert note["contentMap"] == {"en": note["content"]}
    assert "updated" not in note
    assert "replies" not in note
    assert note["attachment"] == [
        {
            "type": "Document",
            "mediaType": "image/png",
            "url": f"{BASE}/media/1.png",
            "name": "a cat",
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "width": 640,
            "height": 480,
        }
    ]
    assert note["tag"] == [
        {
            "type": "Mention",
            "href": "https://remote1.example/users/r1",
            "name": "@r1@remote1.example",
        },
        {
            "type": "Mention",
            "href": "https://remote2.example/users/r2",
            "name": "@r2@remote2.example",
        },
        {"type": "Hashtag", "href": f"{BASE}/tags/fedi", "name": "#fedi"},
        {"type": "Hashtag", "href": f"{BASE}/tags/caf%C3%A9", "name": "#café"},
    ]
    json.dumps(note)  # serialisable as is


def test_note_to_ap_edited_cw_no_language() -> None:
    status = local_status(
        "public",
        summary="spoilers",
        sensitive=True,
        language=None,
        edited_at=datetime(2024, 9, 13, tzinfo=UTC),
        url=f"{BASE}/@alice/111/custom",
    )
    note = note_to_ap(
        status, local_actor(), mentions=[], tags=[], in_reply_to_uri=None, base_url=BASE
    )
    assert note["summary"] == "spoilers"
    assert note["sensitive"] is True
    assert "contentMap" not in note
    assert note["updated"] == "2024-09-13T00:00:00Z"
    assert note["url"] == f"{BASE}/@alice/111/custom"
    assert note["cc"] == [f"{BASE}/users/alice/followers"]


def test_note_to_ap_refuses_boosts_and_undated() -> None:
    author = local_actor()
    with pytest.raises(ValueError, match="boost"):
        note_to_ap(
            local_status("public", reblog_of_id=5),
            author,
            mentions=[],
            tags=[],
            in_reply_to_uri=None,
            base_url=BASE,
        )
    with pytest.raises(ValueError, match="publication date"):
        note_to_ap(
            local_status("public", published=None),
            author,
            mentions=[],
            tags=[],
            in_reply_to_uri=None,
            base_url=BASE,
        )


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_round_trip(visibility: str) -> None:
    author = local_actor()
    mentions = [remote_actor(1), remote_actor(2)]
    status = local_status(visibility, summary="cw", sensitive=True)
    note = note_to_ap(
        status,
        author,
        mentions=mentions,
        tags=["fedi", "café"],
        in_reply_to_uri="https://remote1.example/notes/5",
        base_url=BASE,
    )
    parsed = ap_to_note(
        json.loads(json.dumps(note)),
        actor_uri=author.uri,
        followers_uri=author.followers_uri,
        received_at=NOW,
    )
    assert parsed.visibility == visibility
    assert parsed.uri == status.uri
    assert parsed.url == f"{BASE}/@alice/111"
    assert parsed.object_type == "Note"
    assert html_to_text(parsed.content) == html_to_text(status.content)
    assert parsed.content.count('class="u-url mention"') == 2
    assert parsed.content.count('class="mention hashtag"') == 2
    assert parsed.summary == "cw"
    assert parsed.sensitive is True
    assert parsed.language == "en"
    assert parsed.in_reply_to == "https://remote1.example/notes/5"
    assert parsed.published == datetime(2024, 9, 12, 10, 11, 12, tzinfo=UTC)
    assert parsed.mentions == tuple(m.uri for m in mentions)
    assert parsed.hashtags == ("fedi", "café")
    assert parsed.attachments == (
        {
            "type": "Document",
            "media_type": "image/png",
            "url": f"{BASE}/media/1.png",
            "description": "a cat",
            "width": 640,
            "height": 480,
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        },
    )


# --------------------------------------------------------------------------- addressing


def test_addressing_for() -> None:
    m = ["https://a.example/u/1", "https://b.example/u/2", "https://a.example/u/1"]
    assert addressing_for("public", FOLLOWERS, m) == ([PUBLIC], [FOLLOWERS, *m[:2]])
    assert addressing_for("unlisted", FOLLOWERS, m) == ([FOLLOWERS], [PUBLIC, *m[:2]])
    assert addressing_for("private", FOLLOWERS, m) == ([FOLLOWERS], m[:2])
    assert addressing_for("direct", FOLLOWERS, m) == (m[:2], [])
    assert addressing_for("direct", FOLLOWERS, []) == ([], [])
    assert addressing_for("public", FOLLOWERS, [FOLLOWERS, PUBLIC]) == ([PUBLIC], [FOLLOWERS])
    with pytest.raises(ValueError, match="unknown visibility"):
        addressing_for("limited", FOLLOWERS, [])


def test_attachments_are_capped() -> None:
    many = [{"type": "Document", "url": f"https://cdn.example/{n}"} for n in range(50)]
    note = read(minimal(attachment=many))
    assert [a["url"] for a in note.attachments] == [f"https://cdn.example/{n}" for n in range(16)]


@pytest.mark.parametrize(
    ("item", "kind"),
    [
        ({"type": "Document", "media_type": "video/mp4"}, "video"),
        ({"type": "Document", "media_type": "audio/ogg"}, "audio"),
        ({"type": "Image", "media_type": None}, "image"),  # no media type: its AS type
        ({"type": "Video"}, "video"),
        ({"type": "Document", "media_type": "image/png"}, "image"),
        ({"type": "Audio", "media_type": "application/pdf"}, "audio"),
        ({"type": "Document", "media_type": "application/pdf"}, None),
        ({"type": "Document"}, None),
        ({}, None),
    ],
)
def test_attachment_kind(item: dict[str, object], kind: str | None) -> None:
    assert attachment_kind(item) == kind
