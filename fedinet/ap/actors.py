"""Actors as ActivityStreams documents: building fedinet's own, reading everyone else's.

``actor_to_ap`` emits what Mastodon expects of an actor (its ``ActorSerializer`` shape) plus
the FEP-521a ``assertionMethod`` for the Ed25519 key. ``ap_to_actor`` reads what real
servers send (Mastodon, Pleroma/Akkoma, Misskey kin, Friendica, Mitra, Smithereen, Mbin,
fedify-based ones) and refuses documents that cannot be an actor of the server they came
from. No I/O here: a key given only by reference is skipped, not fetched.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fedinet.ap.context import ACTIVITYSTREAMS, context
from fedinet.ap.ids import INSTANCE_ACTOR_PATH, instance_actor_ids, local_actor_ids
from fedinet.ap.sanitize import normalize_hashtag
from fedinet.crypto.keys import (
    ed25519_public_key_from_multibase,
    ed25519_public_key_to_multibase,
    load_public_key,
    public_key_to_pem,
)
from fedinet.errors import BadActivity
from fedinet.models import Actor, ActorKey
from fedinet.vocabulary import motive_labels, normalize_motives

__all__ = [
    "ACTOR_TYPES",
    "RemoteActor",
    "RemoteKey",
    "actor_to_ap",
    "ap_to_actor",
    "format_datetime",
    "hashtag",
    "tombstone_for",
    "url_domain",
]

ACTOR_TYPES: Final = ("Person", "Service", "Application", "Group", "Organization")
"""The ActivityStreams actor types, in the order of preference when a document has several."""

# --------------------------------------------------------------------------- helpers


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second: ``2024-09-12T00:00:00Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def url_domain(url: str) -> str | None:
    """``host[:port]`` of an absolute http(s) URL, lower-case, default port left out;
    ``None`` if ``url`` is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme.lower() == "https" else 80
    return host if port is None or port == default else f"{host}:{port}"


# --------------------------------------------------------------------------- emitting


def _image(url: str) -> dict[str, Any]:
    image: dict[str, Any] = {"type": "Image"}
    media_type, _ = mimetypes.guess_type(urlsplit(url).path)
    if media_type is not None and media_type.startswith("image/"):
        image["mediaType"] = media_type
    image["url"] = url
    return image


def _assertion_method(key: ActorKey, owner: str) -> dict[str, Any] | None:
    public = load_public_key(key.public_key_pem)
    if not isinstance(public, ed25519.Ed25519PublicKey):
        return None
    return {
        "id": key.key_id,
        "type": "Multikey",
        "controller": owner,
        "publicKeyMultibase": ed25519_public_key_to_multibase(public),
    }


def actor_to_ap(actor: Actor, keys: list[ActorKey], *, base_url: str) -> dict[str, Any]:
    """The ActivityPub document of a local actor (a member's ``Person`` or the instance's
    ``Application``).

    ``keys`` are the actor's rows from ``actor_keys``: the RSA one becomes ``publicKey``
    (the ``#main-key`` if there are several), each Ed25519 one an ``assertionMethod``
    Multikey. Values missing from the row fall back to the ids fedinet mints under
    ``base_url``. Callers check ``actor.is_gone`` first and send :func:`tombstone_for`.
    """
    is_instance = actor.uri == f"{base_url}{INSTANCE_ACTOR_PATH}"
    ids = instance_actor_ids(base_url) if is_instance else local_actor_ids(base_url, actor.username)
    uri = actor.uri
    doc: dict[str, Any] = {
        "@context": context(),
        "id": uri,
        "type": actor.actor_type,
        "preferredUsername": actor.username,
        # Mastodon shows the username when the display name is empty; so does this.
        "name": actor.display_name or actor.username,
        "summary": actor.summary,
        "url": actor.url or ids.url,
        "inbox": actor.inbox_uri or ids.inbox,
        "outbox": actor.outbox_uri or ids.outbox,
        "followers": actor.followers_uri or ids.followers,
        "following": actor.following_uri or ids.following,
        "featured": actor.featured_uri or ids.featured,
        "featuredTags": f"{uri}/collections/tags",
        "endpoints": {"sharedInbox": actor.shared_inbox_uri or ids.shared_inbox},
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
    }
    if actor.published is not None:
        # The day only, as Mastodon does: the exact second an account was made is nobody's
        # business.
        published = actor.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        day = published.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        doc["published"] = format_datetime(day)

    rsa_keys = [k for k in keys if k.kind == "rsa"]
    main = next((k for k in rsa_keys if k.key_id == ids.main_key), None) or next(
        iter(rsa_keys), None
    )
    if main is not None:
        doc["publicKey"] = {"id": main.key_id, "owner": uri, "publicKeyPem": main.public_key_pem}
    methods = [m for k in keys if k.kind == "ed25519" if (m := _assertion_method(k, uri))]
    if methods:
        doc["assertionMethod"] = methods

    doc["attachment"] = [
        {"type": "PropertyValue", "name": str(f.get("name", "")), "value": str(f.get("value", ""))}
        for f in actor.fields
    ]
    # fedinet's extension (FEDERATION.md): motives, region and note policy as properties
    # of their own, and readable fields for servers that only show attachments.
    if not is_instance:
        doc["motives"] = list(actor.motives)
        doc["followNotePolicy"] = actor.follow_note_policy or "strict"
        if actor.region:
            doc["region"] = actor.region
        if actor.motives:
            doc["attachment"].append(
                {
                    "type": "PropertyValue",
                    "name": "Here for",
                    "value": ", ".join(motive_labels(list(actor.motives))),
                }
            )
        if actor.region:
            doc["attachment"].append(
                {"type": "PropertyValue", "name": "Region", "value": actor.region}
            )
    doc["tag"] = [hashtag(base_url, name) for name in actor.interests]
    if actor.avatar_url:
        doc["icon"] = _image(actor.avatar_url)
    if actor.header_url:
        doc["image"] = _image(actor.header_url)
    return doc


def hashtag(base_url: str, name: str) -> dict[str, str]:
    """A ``Hashtag`` object as Mastodon and Misskey read them."""
    return {"type": "Hashtag", "href": f"{base_url}/tags/{quote(name)}", "name": f"#{name}"}


def tombstone_for(actor: Actor) -> dict[str, Any]:
    """The ``Tombstone`` served in place of a suspended or deleted actor."""
    doc: dict[str, Any] = {
        "@context": ACTIVITYSTREAMS,
        "id": actor.uri,
        "type": "Tombstone",
        "formerType": actor.actor_type,
    }
    when = actor.deleted_at or actor.suspended_at
    if when is not None:
        doc["deleted"] = format_datetime(when)
    return doc


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class RemoteKey:
    key_id: str
    kind: str
    """``rsa``, ``ed25519`` or ``ec``, as in ``actor_keys.kind``."""
    public_key_pem: str
    """SubjectPublicKeyInfo PEM, re-encoded (whatever whitespace the sender used)."""


@dataclass(frozen=True, slots=True)
class RemoteActor:
    """A remote actor read from its document; fields are named like :class:`Actor`'s."""

    uri: str
    actor_type: str
    username: str
    domain: str
    """``host[:port]`` of ``uri``."""
    inbox_uri: str
    display_name: str = ""
    summary: str = ""
    """Raw HTML as sent; sanitising happens where it is shown."""
    url: str | None = None
    outbox_uri: str | None = None
    shared_inbox_uri: str | None = None
    followers_uri: str | None = None
    following_uri: str | None = None
    featured_uri: str | None = None
    manually_approves_followers: bool = False
    discoverable: bool = False
    indexable: bool = False
    avatar_url: str | None = None
    header_url: str | None = None
    fields: list[dict[str, str]] = field(default_factory=list)
    published: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    keys: list[RemoteKey] = field(default_factory=list)
    motives: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    region: str | None = None
    follow_note_policy: str | None = None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _http_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL string, else ``None``."""
    if isinstance(value, str) and url_domain(value) is not None:
        return value
    return None


def _ref(value: Any) -> str | None:
    """The URL of a property that is a bare id or an embedded object with an ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return _http_url(value)


def _link_candidates(value: Any) -> Iterator[tuple[str, str | None]]:
    """(href, mediaType) of each string or Link object in ``url``."""
    for item in _as_list(value):
        if isinstance(item, str):
            yield item, None
        elif isinstance(item, dict):
            href = item.get("href", item.get("url"))
            if isinstance(href, str):
                media_type = item.get("mediaType")
                yield href, media_type if isinstance(media_type, str) else None


def _profile_url(value: Any, domain: str) -> str | None:
    """The profile page: an HTML link on the actor's own server (as Mastodon does, a link
    to another host is ignored rather than trusted)."""
    candidates = [
        (href, media)
        for href, media in _link_candidates(value)
        if _http_url(href) and url_domain(href) == domain
    ]
    for href, media in candidates:
        if media is not None and media.split(";")[0].strip() == "text/html":
            return href
    return candidates[0][0] if candidates else None


def _image_url(value: Any) -> str | None:
    """``icon``/``image``: a URL, an Image (whose ``url`` may itself be a Link or a list),
    or a list of those; the first usable one wins."""
    for item in _as_list(value):
        if isinstance(item, str):
            found = _http_url(item)
        elif isinstance(item, dict):
            found = next((h for h, _ in _link_candidates(item.get("url")) if _http_url(h)), None)
        else:
            found = None
        if found is not None:
            return found
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _bool(value: Any) -> bool:
    return value is True


def _published(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _fields(value: Any) -> list[dict[str, str]]:
    return [
        {"name": item["name"], "value": item["value"]}
        for item in _as_list(value)
        if isinstance(item, dict)
        and item.get("type") == "PropertyValue"
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
    ]


def _kind(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def _key_id(entry: dict[str, Any], uri: str, domain: str, owner_property: str) -> str | None:
    """The key's id if the entry belongs to this actor and lives on its server."""
    key_id = entry.get("id")
    if not isinstance(key_id, str) or url_domain(key_id) != domain:
        return None
    if entry.get(owner_property) != uri:
        return None
    return key_id


def _pem_keys(value: Any, uri: str, domain: str) -> Iterator[RemoteKey]:
    """``publicKey``: an object or a list of objects with ``publicKeyPem``."""
    for entry in _as_list(value):
        if not isinstance(entry, dict):
            continue  # a bare reference would need a fetch
        key_id = _key_id(entry, uri, domain, "owner")
        pem = entry.get("publicKeyPem")
        if key_id is None or not isinstance(pem, str):
            continue
        try:
            public = load_public_key(pem.strip())
            yield RemoteKey(key_id, _kind(public), public_key_to_pem(public))
        except ValueError:
            continue


def _multikeys(value: Any, uri: str, domain: str) -> Iterator[RemoteKey]:
    """``assertionMethod`` Multikey entries (FEP-521a). Only Ed25519 is read; other
    multicodecs (Mitra's RSA Multikey) are skipped, as they repeat ``publicKey``."""
    for entry in _as_list(value):
        if not isinstance(entry, dict) or "Multikey" not in _as_list(entry.get("type")):
            continue
        key_id = _key_id(entry, uri, domain, "controller")
        multibase = entry.get("publicKeyMultibase")
        if key_id is None or not isinstance(multibase, str):
            continue
        try:
            public = ed25519_public_key_from_multibase(multibase)
        except ValueError:
            continue
        yield RemoteKey(key_id, "ed25519", public_key_to_pem(public))


def _actor_type(value: Any) -> str:
    types = [t for t in _as_list(value) if isinstance(t, str)]
    for candidate in ACTOR_TYPES:
        if candidate in types:
            return candidate
    shown = ", ".join(types) if types else "none"
    raise BadActivity(
        f"not an actor: type is {shown}, expected one of {', '.join(ACTOR_TYPES)}",
        reason="not_an_actor",
    )


def ap_to_actor(doc: Any, *, fetched_from: str) -> RemoteActor:
    """Read a remote actor document fetched from ``fetched_from`` (the final URL, after
    redirects).

    Raises :class:`BadActivity` when the document is not an object, has no usable ``id``,
    an ``id`` on another server than ``fetched_from``, no actor type, no ``inbox`` or no
    ``preferredUsername``. Keys whose ``owner``/``controller`` is not the actor, or whose
    id is on another server, or that cannot be loaded, are left out.
    """
    if not isinstance(doc, dict):
        raise BadActivity("an actor document must be a JSON object")
    source = url_domain(fetched_from)
    if source is None:
        raise BadActivity(f"cannot read an actor fetched from {fetched_from!r}")
    uri = doc.get("id")
    if not isinstance(uri, str) or not uri:
        raise BadActivity("the actor document has no id")
    domain = url_domain(uri)
    if domain is None:
        raise BadActivity(f"the actor id {uri!r} is not an absolute http(s) URL")
    if domain != source:
        raise BadActivity(
            f"the actor id {uri} is not on {source}, where the document came from",
            reason="id_host_mismatch",
        )
    actor_type = _actor_type(doc.get("type"))
    inbox = _ref(doc.get("inbox"))
    if inbox is None:
        raise BadActivity(f"the actor {uri} has no inbox (an http(s) URL is required)")
    username = doc.get("preferredUsername")
    if not isinstance(username, str) or not username.strip():
        raise BadActivity(f"the actor {uri} has no preferredUsername")

    endpoints = doc.get("endpoints")
    shared_inbox = _ref(
        endpoints.get("sharedInbox") if isinstance(endpoints, dict) else doc.get("sharedInbox")
    )

    keys: dict[str, RemoteKey] = {}
    for key in (
        *_pem_keys(doc.get("publicKey"), uri, domain),
        *_multikeys(doc.get("assertionMethod"), uri, domain),
    ):
        keys.setdefault(key.key_id, key)

    return RemoteActor(
        uri=uri,
        actor_type=actor_type,
        username=username.strip(),
        domain=domain,
        inbox_uri=inbox,
        display_name=_text(doc.get("name")),
        summary=_text(doc.get("summary")),
        url=_profile_url(doc.get("url"), domain),
        outbox_uri=_ref(doc.get("outbox")),
        shared_inbox_uri=shared_inbox,
        followers_uri=_ref(doc.get("followers")),
        following_uri=_ref(doc.get("following")),
        featured_uri=_ref(doc.get("featured")),
        manually_approves_followers=_bool(doc.get("manuallyApprovesFollowers")),
        discoverable=_bool(doc.get("discoverable")),
        indexable=_bool(doc.get("indexable")),
        avatar_url=_image_url(doc.get("icon")),
        header_url=_image_url(doc.get("image")),
        fields=_fields(doc.get("attachment")),
        published=_published(doc.get("published")),
        raw=doc,
        keys=list(keys.values()),
        motives=normalize_motives(doc.get("motives")),
        interests=_interests(doc.get("tag")),
        region=_region(doc.get("region")),
        follow_note_policy=(
            doc["followNotePolicy"]
            if doc.get("followNotePolicy") in ("strict", "standard", "open")
            else None
        ),
    )


MAX_INTERESTS = 30
MAX_REGION = 100


def _interests(tags: Any) -> list[str]:
    """Interest tags from an actor's ``Hashtag`` tags (any software's), normalized."""
    found: list[str] = []
    for tag in _as_list(tags):
        if isinstance(tag, dict) and tag.get("type") == "Hashtag":
            name = normalize_hashtag(str(tag.get("name") or ""))
            if name and name not in found:
                found.append(name)
    return found[:MAX_INTERESTS]


def _region(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())[:MAX_REGION]
    return text or None
