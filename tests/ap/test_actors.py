from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fedinet.ap.actors import (
    RemoteActor,
    actor_to_ap,
    ap_to_actor,
    tombstone_for,
    url_domain,
)
from fedinet.ap.context import (
    ACTIVITYSTREAMS,
    CONTEXT,
    EXTENSION_TERMS,
    MULTIKEY_V1,
    SECURITY_V1,
    context,
)
from fedinet.ap.ids import instance_actor_ids, local_actor_ids
from fedinet.crypto.keys import (
    ed25519_public_key_from_multibase,
    ed25519_public_key_to_multibase,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_public_key,
    public_key_to_pem,
)
from fedinet.errors import BadActivity
from fedinet.models import Actor, ActorKey

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://fedinet.test"


def fixture(name: str) -> dict[str, Any]:
    text = FIXTURES.joinpath(name).read_text(encoding="utf-8")
    if name.endswith(".txt"):  # a raw HTTP response: headers, blank line, body
        text = text.split("\n\n", 1)[1]
    doc = json.loads(text)
    assert isinstance(doc, dict)
    return doc


def parse(name: str) -> RemoteActor:
    doc = fixture(name)
    return ap_to_actor(doc, fetched_from=doc["id"])


# --------------------------------------------------------------------------- real documents


# (file, type, username, domain, url, shared inbox, key ids -> kinds, #fields, avatar?, header?)
REAL_ACTORS = [
    (
        "mastodon_person.json",
        "Person",
        "mastodon",
        "masto.qa.urbanwildlife.biz",
        "https://masto.qa.urbanwildlife.biz/@mastodon",
        "https://masto.qa.urbanwildlife.biz/inbox",
        {"https://masto.qa.urbanwildlife.biz/users/mastodon#main-key": "rsa"},
        0,
        True,
        False,
    ),
    (
        "mastodon_rarely_typical.json",
        "Person",
        "rarely_typical",
        "tech.lgbt",
        "https://tech.lgbt/@rarely_typical",
        "https://tech.lgbt/inbox",
        {"https://tech.lgbt/users/rarely_typical#main-key": "rsa"},
        1,
        True,
        False,
    ),
    (
        "mastodon_activitypub_academy.json",
        "Person",
        "brauca_darradiul",
        "activitypub.academy",
        "https://activitypub.academy/@brauca_darradiul",
        "https://activitypub.academy/inbox",
        {"https://activitypub.academy/users/brauca_darradiul#main-key": "rsa"},
        0,
        False,
        False,
    ),
    (
        "mastodon_array_type.txt",
        "Person",
        "foo",
        "ap.example.com",
        "https://ap.example.com/@foo",
        "https://ap.example.com/inbox",
        {"https://ap.example.com/users/foo#main-key": "rsa"},
        0,
        True,
        False,
    ),
    (
        "pleroma_person.json",
        "Person",
        "lanodan",
        "queer.hacktivis.me",
        "https://queer.hacktivis.me/users/lanodan",
        "https://queer.hacktivis.me/inbox",
        {"https://queer.hacktivis.me/users/lanodan#main-key": "rsa"},
        0,
        True,
        True,
    ),
    (
        "friendica_person.json",
        "Person",
        "jakob",
        "soc.schuerz.at",
        "https://soc.schuerz.at/profile/jakob",
        "https://soc.schuerz.at/inbox",
        {"https://soc.schuerz.at/profile/jakob#main-key": "rsa"},
        6,
        True,
        False,
    ),
    (
        "friendica_organization.json",
        "Organization",
        "informapirata",
        "poliverso.org",
        "https://poliverso.org/profile/informapirata",
        "https://poliverso.org/inbox",
        {"https://poliverso.org/profile/informapirata#main-key": "rsa"},
        2,
        True,
        False,
    ),
    (
        "smithereen_person.json",
        "Person",
        "grishka",
        "friends.grishka.me",
        "https://friends.grishka.me/grishka",
        "https://friends.grishka.me/activitypub/sharedInbox",
        {"https://friends.grishka.me/users/1#main-key": "rsa"},
        0,
        True,
        False,
    ),
    (
        "mbin_instance_actor.json",
        "Application",
        "fedia.io",
        "fedia.io",
        None,
        None,
        {"https://fedia.io/i/actor#main-key": "rsa"},
        0,
        False,
        False,
    ),
    (
        "mitra_person.json",
        "Person",
        "hongminhee",
        "wizard.casa",
        "https://wizard.casa/users/hongminhee",
        None,
        {
            "https://wizard.casa/users/hongminhee#main-key": "rsa",
            "https://wizard.casa/users/hongminhee#ed25519-key": "ed25519",
        },
        0,
        False,
        False,
    ),
    (
        "oeee_cafe_person.json",
        "Person",
        "hongminhee",
        "oeee.cafe",
        "https://oeee.cafe/@hongminhee",
        "https://oeee.cafe/inbox",
        {"https://oeee.cafe/ap/users/3609fd4e-d51d-4db8-9f04-4189815864dd#main-key": "rsa"},
        0,
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    (
        "name",
        "actor_type",
        "username",
        "domain",
        "url",
        "shared_inbox",
        "keys",
        "n_fields",
        "has_avatar",
        "has_header",
    ),
    REAL_ACTORS,
    ids=[row[0] for row in REAL_ACTORS],
)
def test_reads_real_actor_documents(
    name: str,
    actor_type: str,
    username: str,
    domain: str,
    url: str | None,
    shared_inbox: str | None,
    keys: dict[str, str],
    n_fields: int,
    has_avatar: bool,
    has_header: bool,
) -> None:
    doc = fixture(name)
    actor = ap_to_actor(doc, fetched_from=doc["id"])
    assert actor.uri == doc["id"]
    assert actor.actor_type == actor_type
    assert actor.username == username
    assert actor.domain == domain
    assert actor.url == url
    assert actor.inbox_uri == doc["inbox"]
    assert actor.outbox_uri == doc.get("outbox")
    assert actor.followers_uri == doc.get("followers")
    assert actor.following_uri == doc.get("following")
    assert actor.featured_uri == doc.get("featured")
    assert actor.shared_inbox_uri == shared_inbox
    assert actor.display_name == doc.get("name", "")
    assert actor.summary == doc.get("summary", "")
    assert actor.manually_approves_followers == doc.get("manuallyApprovesFollowers", False)
    assert actor.discoverable == doc.get("discoverable", False)
    assert {k.key_id: k.kind for k in actor.keys} == keys
    assert len(actor.fields) == n_fields
    assert (actor.avatar_url is not None) == has_avatar
    assert (actor.header_url is not None) == has_header
    assert actor.raw is doc
    for key in actor.keys:  # every key is re-encoded as a clean SPKI PEM
        assert key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
        assert "\r" not in key.public_key_pem
        load_public_key(key.public_key_pem)


def test_mastodon_details() -> None:
    actor = parse("mastodon_rarely_typical.json")
    assert actor.indexable and actor.discoverable and actor.manually_approves_followers
    assert actor.published == datetime(2023, 9, 12, tzinfo=UTC)
    assert actor.featured_uri == "https://tech.lgbt/users/rarely_typical/collections/featured"
    assert actor.avatar_url == (
        "https://media.tech.lgbt/accounts/avatars/111/053/483/188/740/661/original/"
        "83e3270ca3cac38d.png"
    )
    assert actor.fields[0]["name"] == "my website (not good)"
    assert actor.fields[0]["value"].startswith('<a href="https://rarely-typical.neocities.org/"')
    assert actor.summary.startswith("<p>I'm just a random internet citizen</p>")


def test_array_type_picks_the_actor_type() -> None:
    doc = fixture("mastodon_array_type.txt")
    assert doc["type"] == ["Person", "vcard:individual"]
    assert ap_to_actor(doc, fetched_from=doc["id"]).actor_type == "Person"


def test_mitra_assertion_method_ed25519_key() -> None:
    doc = fixture("mitra_person.json")
    actor = ap_to_actor(doc, fetched_from=doc["id"])
    keys = {k.kind: k for k in actor.keys}
    # The RSA key comes from publicKey; the RSA Multikey repeating it is not read twice.
    assert len(actor.keys) == 2
    ed_key = load_public_key(keys["ed25519"].public_key_pem)
    expected = ed25519_public_key_from_multibase("z6MkweqJajqa5jRAJTBVxxu47oCdB7HzmYbBKN8VGbFJmKkC")
    assert public_key_to_pem(ed_key) == public_key_to_pem(expected)
    assert isinstance(load_public_key(keys["rsa"].public_key_pem), rsa.RSAPublicKey)


def test_smithereen_icon_uses_the_cropped_url() -> None:
    actor = parse("smithereen_person.json")
    assert actor.avatar_url is not None
    assert "/c:573:572:" in actor.avatar_url


def test_pleroma_header_and_avatar() -> None:
    actor = parse("pleroma_person.json")
    assert actor.avatar_url is not None and actor.avatar_url.endswith("avatar_HD.png")
    assert actor.header_url is not None and actor.header_url.endswith(".jpg")


def test_fedify_bob_without_inbox_is_refused() -> None:
    doc = fixture("fedify_bob_no_inbox.json")
    with pytest.raises(BadActivity, match="no inbox"):
        ap_to_actor(doc, fetched_from=doc["id"])


# --------------------------------------------------------------------------- shapes of values


def minimal(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ACTIVITYSTREAMS,
        "id": "https://remote.example/users/ann",
        "type": "Person",
        "preferredUsername": "ann",
        "inbox": "https://remote.example/users/ann/inbox",
    }
    doc.update(overrides)
    return doc


def read(
    doc: dict[str, Any], fetched_from: str = "https://remote.example/users/ann"
) -> RemoteActor:
    return ap_to_actor(doc, fetched_from=fetched_from)


def test_minimal_actor_defaults() -> None:
    actor = read(minimal())
    assert actor.display_name == "" and actor.summary == ""
    assert actor.url is None and actor.outbox_uri is None and actor.shared_inbox_uri is None
    assert not actor.manually_approves_followers
    assert not actor.discoverable and not actor.indexable
    assert actor.keys == [] and actor.fields == []
    assert actor.published is None


def test_url_as_link_objects_prefers_html() -> None:
    doc = minimal(
        url=[
            {"type": "Link", "href": "https://remote.example/ann.json", "mediaType": "x/y"},
            {"type": "Link", "href": "https://remote.example/@ann", "mediaType": "text/html"},
        ]
    )
    assert read(doc).url == "https://remote.example/@ann"
    assert read(minimal(url={"type": "Link", "href": "https://remote.example/@a"})).url == (
        "https://remote.example/@a"
    )


def test_url_on_another_host_is_ignored() -> None:
    assert read(minimal(url="https://phishing.example/@ann")).url is None


def test_icon_forms() -> None:
    assert read(minimal(icon="https://cdn.example/a.png")).avatar_url == "https://cdn.example/a.png"
    icons = [{"type": "Image", "url": "not a url"}, {"type": "Image", "url": "https://c/b.png"}]
    assert read(minimal(icon=icons)).avatar_url == "https://c/b.png"
    link = {"type": "Image", "url": {"type": "Link", "href": "https://c/l.png"}}
    assert read(minimal(image=link)).header_url == "https://c/l.png"
    assert read(minimal(icon={"type": "Image"})).avatar_url is None


def test_collections_may_be_embedded_objects() -> None:
    doc = minimal(
        outbox={"id": "https://remote.example/users/ann/outbox", "type": "OrderedCollection"},
        sharedInbox="https://remote.example/inbox",
    )
    actor = read(doc)
    assert actor.outbox_uri == "https://remote.example/users/ann/outbox"
    assert actor.shared_inbox_uri == "https://remote.example/inbox"


def test_bad_scalar_values_are_ignored() -> None:
    actor = read(
        minimal(
            name=None,
            summary=["x"],
            manuallyApprovesFollowers="true",
            published="yesterday",
            attachment=[{"type": "PropertyValue", "name": "a"}, "junk", {"type": "Note"}],
        )
    )
    assert actor.display_name == "" and actor.summary == ""
    assert not actor.manually_approves_followers
    assert actor.published is None and actor.fields == []


def test_naive_published_is_utc() -> None:
    assert read(minimal(published="2024-01-02T03:04:05")).published == datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=UTC
    )


# --------------------------------------------------------------------------- keys


def test_keys_with_a_foreign_owner_or_host_are_skipped() -> None:
    _, rsa_pem = generate_rsa_keypair()
    _, ed_pem = generate_ed25519_keypair()
    ed_public = load_public_key(ed_pem)
    assert isinstance(ed_public, ed25519.Ed25519PublicKey)
    multibase = ed25519_public_key_to_multibase(ed_public)
    uri = "https://remote.example/users/ann"
    doc = minimal(
        publicKey=[
            {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": rsa_pem},
            {
                "id": f"{uri}#stolen",
                "owner": "https://remote.example/users/eve",
                "publicKeyPem": rsa_pem,
            },
            {"id": "https://evil.example/key", "owner": uri, "publicKeyPem": rsa_pem},
            {"id": f"{uri}#no-owner", "publicKeyPem": rsa_pem},
            {"id": f"{uri}#garbage", "owner": uri, "publicKeyPem": "not a key"},
            f"{uri}#by-reference",
        ],
        assertionMethod=[
            {
                "id": f"{uri}#ed",
                "type": "Multikey",
                "controller": uri,
                "publicKeyMultibase": multibase,
            },
            {
                "id": f"{uri}#ed-eve",
                "type": "Multikey",
                "controller": "https://remote.example/users/eve",
                "publicKeyMultibase": multibase,
            },
            {
                "id": "https://evil.example/ed",
                "type": "Multikey",
                "controller": uri,
                "publicKeyMultibase": multibase,
            },
            {"id": f"{uri}#bad", "type": "Multikey", "controller": uri, "publicKeyMultibase": "zz"},
            {"id": f"{uri}#nt", "controller": uri, "publicKeyMultibase": multibase},
        ],
    )
    actor = read(doc)
    assert [(k.key_id, k.kind) for k in actor.keys] == [
        (f"{uri}#main-key", "rsa"),
        (f"{uri}#ed", "ed25519"),
    ]
    assert actor.keys[1].public_key_pem == public_key_to_pem(ed_public)


def test_ec_key_kind() -> None:
    pem = public_key_to_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
    uri = "https://remote.example/users/ann"
    doc = minimal(publicKey={"id": f"{uri}#k", "owner": uri, "publicKeyPem": pem})
    assert [k.kind for k in read(doc).keys] == ["ec"]


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("doc", "fetched_from", "message"),
    [
        ([], "https://remote.example/users/ann", "JSON object"),
        ("https://remote.example/users/ann", "https://remote.example/users/ann", "JSON object"),
        (minimal(id=None), "https://remote.example/users/ann", "no id"),
        (minimal(id="/users/ann"), "https://remote.example/users/ann", "not an absolute"),
        (minimal(id="ftp://remote.example/ann"), "https://remote.example/x", "not an absolute"),
        (minimal(), "https://other.example/users/ann", "not on other.example"),
        (minimal(), "https://remote.example:8443/users/ann", "not on remote.example:8443"),
        (minimal(), "not a url", "cannot read"),
        (minimal(type="Note"), "https://remote.example/users/ann", "not an actor: type is Note"),
        (minimal(type="Tombstone"), "https://remote.example/users/ann", "type is Tombstone"),
        (minimal(type=None), "https://remote.example/users/ann", "type is none"),
        (minimal(type=["vcard:individual"]), "https://remote.example/users/ann", "not an actor"),
        (minimal(inbox=None), "https://remote.example/users/ann", "no inbox"),
        (minimal(inbox="inbox"), "https://remote.example/users/ann", "no inbox"),
        (minimal(preferredUsername=None), "https://remote.example/users/ann", "preferredUsername"),
        (minimal(preferredUsername=" "), "https://remote.example/users/ann", "preferredUsername"),
    ],
)
def test_rejections(doc: Any, fetched_from: str, message: str) -> None:
    with pytest.raises(BadActivity, match=message):
        ap_to_actor(doc, fetched_from=fetched_from)


def test_host_comparison_ignores_case_and_default_port() -> None:
    actor = read(minimal(id="https://Remote.Example:443/users/ann"))
    assert actor.domain == "remote.example"
    assert url_domain("http://h.example:8000/x") == "h.example:8000"
    assert url_domain("https://[::1]:8443/x") == "[::1]:8443"
    assert url_domain("mailto:a@b") is None


# --------------------------------------------------------------------------- emitting


def local_member(**overrides: Any) -> tuple[Actor, list[ActorKey]]:
    ids = local_actor_ids(BASE, "alice")
    values: dict[str, Any] = {
        "id": 7,
        "uri": ids.uri,
        "is_local": True,
        "actor_type": "Person",
        "username": "alice",
        "domain": "fedinet.test",
        "display_name": "Alice Liddell",
        "summary": "<p>Down the rabbit hole</p>",
        "url": ids.url,
        "inbox_uri": ids.inbox,
        "outbox_uri": ids.outbox,
        "shared_inbox_uri": ids.shared_inbox,
        "followers_uri": ids.followers,
        "following_uri": ids.following,
        "featured_uri": ids.featured,
        "manually_approves_followers": True,
        "discoverable": True,
        "indexable": False,
        "avatar_url": f"{BASE}/media/avatar.png",
        "header_url": f"{BASE}/media/header.jpeg",
        "fields": [{"name": "Why I'm here", "value": "Gardening"}],
        "published": datetime(2024, 5, 6, 17, 30, 12, tzinfo=UTC),
    }
    values.update(overrides)
    actor = Actor(**values)
    _, rsa_pem = generate_rsa_keypair()
    _, ed_pem = generate_ed25519_keypair()
    keys = [
        ActorKey(key_id=ids.main_key, actor_id=7, kind="rsa", public_key_pem=rsa_pem),
        ActorKey(key_id=ids.ed25519_key, actor_id=7, kind="ed25519", public_key_pem=ed_pem),
    ]
    return actor, keys


def test_actor_to_ap_shape() -> None:
    actor, keys = local_member()
    doc = actor_to_ap(actor, keys, base_url=BASE)
    uri = actor.uri
    assert doc["@context"] == CONTEXT
    assert doc["id"] == uri and doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice" and doc["name"] == "Alice Liddell"
    assert doc["url"] == f"{BASE}/@alice"
    assert doc["inbox"] == f"{uri}/inbox" and doc["outbox"] == f"{uri}/outbox"
    assert doc["followers"] == f"{uri}/followers" and doc["following"] == f"{uri}/following"
    assert doc["featured"] == f"{uri}/collections/featured"
    assert doc["featuredTags"] == f"{uri}/collections/tags"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["manuallyApprovesFollowers"] is True
    assert doc["discoverable"] is True and doc["indexable"] is False
    assert doc["published"] == "2024-05-06T00:00:00Z"  # the day only, as Mastodon
    assert doc["publicKey"] == {
        "id": f"{uri}#main-key",
        "owner": uri,
        "publicKeyPem": keys[0].public_key_pem,
    }
    [method] = doc["assertionMethod"]
    assert method["id"] == f"{uri}#ed25519-key"
    assert method["type"] == "Multikey" and method["controller"] == uri
    decoded = ed25519_public_key_from_multibase(method["publicKeyMultibase"])
    assert public_key_to_pem(decoded) == keys[1].public_key_pem
    assert doc["attachment"] == [
        {"type": "PropertyValue", "name": "Why I'm here", "value": "Gardening"}
    ]
    assert doc["tag"] == []
    assert doc["icon"] == {"type": "Image", "mediaType": "image/png", "url": actor.avatar_url}
    assert doc["image"] == {"type": "Image", "mediaType": "image/jpeg", "url": actor.header_url}
    json.dumps(doc)  # serialisable as is


def test_actor_to_ap_fallbacks_and_optional_parts() -> None:
    actor, keys = local_member(
        display_name="",
        url=None,
        inbox_uri=None,
        shared_inbox_uri=None,
        avatar_url=None,
        header_url=None,
        fields=[],
        published=None,
    )
    doc = actor_to_ap(actor, keys[:1], base_url=BASE)
    assert doc["name"] == "alice"
    assert doc["url"] == f"{BASE}/@alice"
    assert doc["inbox"] == f"{actor.uri}/inbox"
    assert doc["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    for absent in ("icon", "image", "published", "assertionMethod"):
        assert absent not in doc
    assert doc["attachment"] == []


def test_instance_actor_document() -> None:
    ids = instance_actor_ids(BASE)
    actor = Actor(
        id=1,
        uri=ids.uri,
        is_local=True,
        actor_type="Application",
        username="fedinet.test",
        domain="fedinet.test",
        url=ids.url,
        inbox_uri=ids.inbox,
        discoverable=False,
    )
    _, rsa_pem = generate_rsa_keypair()
    keys = [ActorKey(key_id=ids.main_key, actor_id=1, kind="rsa", public_key_pem=rsa_pem)]
    doc = actor_to_ap(actor, keys, base_url=BASE)
    assert doc["type"] == "Application"
    assert doc["id"] == f"{BASE}/actor"
    assert doc["publicKey"]["id"] == f"{BASE}/actor#main-key"
    assert doc["url"] == f"{BASE}/about"
    assert doc["outbox"] == f"{BASE}/actor/outbox"  # fallback from the instance ids
    remote = ap_to_actor(doc, fetched_from=doc["id"])
    assert remote.actor_type == "Application" and remote.username == "fedinet.test"


def test_round_trip() -> None:
    actor, keys = local_member()
    doc = json.loads(json.dumps(actor_to_ap(actor, keys, base_url=BASE)))
    remote = ap_to_actor(doc, fetched_from=actor.uri)
    for name in (
        "uri",
        "actor_type",
        "username",
        "domain",
        "display_name",
        "summary",
        "url",
        "inbox_uri",
        "outbox_uri",
        "shared_inbox_uri",
        "followers_uri",
        "following_uri",
        "featured_uri",
        "manually_approves_followers",
        "discoverable",
        "indexable",
        "avatar_url",
        "header_url",
        "fields",
    ):
        assert getattr(remote, name) == getattr(actor, name), name
    assert remote.published == datetime(2024, 5, 6, tzinfo=UTC)
    assert [(k.key_id, k.kind, k.public_key_pem) for k in remote.keys] == [
        (k.key_id, k.kind, k.public_key_pem) for k in keys
    ]


def test_tombstone() -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    actor, _ = local_member(deleted_at=when)
    assert tombstone_for(actor) == {
        "@context": ACTIVITYSTREAMS,
        "id": actor.uri,
        "type": "Tombstone",
        "formerType": "Person",
        "deleted": "2025-01-02T03:04:05Z",
    }
    suspended, _ = local_member(suspended_at=when)
    assert tombstone_for(suspended)["deleted"] == "2025-01-02T03:04:05Z"


# --------------------------------------------------------------------------- context


def test_context_layout() -> None:
    assert CONTEXT[:3] == [ACTIVITYSTREAMS, SECURITY_V1, MULTIKEY_V1]
    terms = CONTEXT[3]
    assert terms is EXTENSION_TERMS
    assert terms["toot"] == "http://joinmastodon.org/ns#"
    assert terms["fedinet"] == "https://fedinet.social/ns#"
    assert terms["featured"] == {"@id": "toot:featured", "@type": "@id"}
    assert terms["indexable"] == "toot:indexable"
    # Standard terms of ActivityStreams and the security contexts are never redefined.
    for standard in ("id", "type", "name", "summary", "url", "inbox", "publicKey", "Multikey"):
        assert standard not in terms


def test_context_copies_are_independent() -> None:
    mine = context()
    mine[3]["toot"] = "changed"
    assert EXTENSION_TERMS["toot"] == "http://joinmastodon.org/ns#"
    assert context() == copy.deepcopy(CONTEXT)
