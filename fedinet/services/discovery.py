"""How other servers find fedinet's actors and learn about the instance: WebFinger,
host-meta, NodeInfo 2.1 and the actor documents themselves.

Lookups raise :class:`NotFound` / :class:`Gone` / :class:`ValidationError`; the document
builders are pure functions of their arguments.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import quoteattr

from fedinet import __version__
from fedinet.ap.actors import actor_to_ap, url_domain
from fedinet.ap.ids import INSTANCE_ACTOR_PATH, instance_actor_ids
from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import instance as instance_db
from fedinet.db import users as users_db
from fedinet.db.instance import UserCounts
from fedinet.db.types import Executor
from fedinet.errors import Gone, NotFound, ValidationError
from fedinet.models import Actor
from fedinet.services.accounts import SYSTEM_USERNAME
from fedinet.vocabulary import MOTIVES

__all__ = [
    "NODEINFO_2_1_PROFILE",
    "NODEINFO_2_1_REL",
    "SOFTWARE_HOMEPAGE",
    "SOFTWARE_REPOSITORY",
    "actor_document",
    "get_instance_actor",
    "get_local_member",
    "host_meta_xml",
    "motive_metadata",
    "nodeinfo",
    "nodeinfo_document",
    "nodeinfo_links",
    "open_registrations",
    "resolve_webfinger",
    "webfinger_document",
]

NODEINFO_2_1_REL: Final = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_2_1_PROFILE: Final = "http://nodeinfo.diaspora.software/ns/schema/2.1#"
# FEP-2677: where to find the instance actor.
_APPLICATION_REL: Final = "https://www.w3.org/ns/activitystreams#Application"

SOFTWARE_REPOSITORY: Final[str | None] = None
"""Public repository of fedinet for NodeInfo ``software.repository``; unset until decided."""
SOFTWARE_HOMEPAGE: Final[str | None] = None
"""Homepage of fedinet for NodeInfo ``software.homepage``; unset until decided."""

# instance_settings 'registration_mode': 'open' (the default) and 'approved' (sign-ups wait
# for an admin) both count as open registrations, as Mastodon counts them; these do not
# (invite: only with an invitation code, see services/registrations.py):
_CLOSED_MODES: Final = ("closed", "none", "invite", "invite-only")


# --------------------------------------------------------------------------- actors


async def get_local_member(db: Executor, username: str) -> Actor:
    """A local member by username (case-insensitive), suspended and deleted ones included:
    the caller decides how to show those. ``NotFound`` for anyone else, including the
    instance actor and members awaiting approval."""
    actor = await actors_db.get_local_actor_by_username(db, username)
    if actor is None:
        raise NotFound(f"no member is called {username!r} here")
    if actor.username == SYSTEM_USERNAME and actor.actor_type == "Service":
        return actor  # the system account has no login, but others must find it
    if actor.deleted_at is not None and actor.actor_type == "Person":
        return actor  # a deleted member's login is gone; its tombstone stays
    user = await users_db.get_user_by_actor_id(db, actor.id)
    if user is None or not user.approved:
        raise NotFound(f"no member is called {username!r} here")
    return actor


async def get_instance_actor(db: Executor, settings: Settings) -> Actor:
    actor = await actors_db.get_actor_by_uri(db, instance_actor_ids(settings.url).uri)
    if actor is None:
        raise NotFound("the instance actor does not exist yet")
    return actor


async def actor_document(db: Executor, settings: Settings, actor: Actor) -> dict[str, Any]:
    """The ActivityPub document of a local actor, with its public keys."""
    keys = await actors_db.list_keys_for_actor(db, actor.id)
    return actor_to_ap(actor, keys, base_url=settings.url)


# --------------------------------------------------------------------------- WebFinger


def _username_from_resource(resource: str, settings: Settings) -> tuple[str, bool]:
    """(username, is_instance_actor) named by a WebFinger ``resource``.

    Accepted: ``acct:user@domain`` (also without ``acct:``), the actor id
    ``{url}/users/user``, the profile URL ``{url}/@user`` and the instance actor as
    ``acct:domain@domain`` or ``{url}/actor``.
    """
    resource = resource.strip()
    if not resource:
        raise ValidationError("the resource parameter is required", field="resource")
    domain = settings.domain
    if resource.lower().startswith(("https://", "http://")):
        if url_domain(resource) != domain:
            raise NotFound(f"{resource} is not on {domain}")
        path = urlsplit(resource).path.rstrip("/")
        if path == INSTANCE_ACTOR_PATH:
            return domain, True
        for prefix in ("/users/", "/@"):
            name = unquote(path.removeprefix(prefix)) if path.startswith(prefix) else ""
            if name and "/" not in name:
                if name.lower() == domain:
                    break  # the instance actor is not a member
                return name, False
        raise NotFound(f"{resource} is not an account on {domain}")
    acct = resource[5:] if resource.lower().startswith("acct:") else resource
    acct = acct.removeprefix("@")
    username, at, host = acct.rpartition("@")
    if not at or not username or not host or "@" in username or any(c.isspace() for c in acct):
        raise ValidationError(
            f"{resource!r} is not an acct: URI (acct:user@domain) or an account URL",
            field="resource",
        )
    if host.lower() != domain:
        raise NotFound(f"{host} is not this server ({domain})")
    if username.lower() == domain:
        return domain, True
    return username, False


async def resolve_webfinger(db: Executor, settings: Settings, resource: str) -> Actor:
    """The local actor a WebFinger ``resource`` names.

    ``ValidationError`` for a missing or malformed resource, ``NotFound`` for an unknown
    account or another domain, ``Gone`` for a suspended or deleted member (as Mastodon
    answers 410 for permanently suspended accounts).
    """
    username, is_instance = _username_from_resource(resource, settings)
    if is_instance:
        return await get_instance_actor(db, settings)
    actor = await get_local_member(db, username)
    if actor.is_gone:
        raise Gone(f"the account {actor.acct} is no longer available")
    return actor


def webfinger_document(actor: Actor, settings: Settings) -> dict[str, Any]:
    """The JRD for a local actor, shaped like Mastodon's."""
    profile = actor.url or actor.uri
    return {
        "subject": f"acct:{actor.username}@{settings.domain}",
        "aliases": [actor.uri] if profile == actor.uri else [profile, actor.uri],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
            {"rel": "self", "type": "application/activity+json", "href": actor.uri},
        ],
    }


def host_meta_xml(settings: Settings) -> str:
    """RFC 6415 host-meta pointing at WebFinger (the ``lrdd`` template)."""
    template = quoteattr(f"{settings.url}/.well-known/webfinger?resource={{uri}}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={template}/>\n'
        "</XRD>\n"
    )


# --------------------------------------------------------------------------- NodeInfo


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: where the NodeInfo 2.1 document and the instance actor are."""
    return {
        "links": [
            {"rel": NODEINFO_2_1_REL, "href": f"{settings.url}/nodeinfo/2.1"},
            {"rel": _APPLICATION_REL, "href": instance_actor_ids(settings.url).uri},
        ]
    }


def open_registrations(registration_mode: Any) -> bool:
    """Whether ``registration_mode`` lets people sign up; unset or unknown means open."""
    return not (isinstance(registration_mode, str) and registration_mode in _CLOSED_MODES)


def motive_metadata() -> dict[str, Any]:
    """NodeInfo ``metadata`` about members' motives: the shared vocabulary, so that other
    servers and directories can match on it, and the follow-note extension's version."""
    return {
        "motives": [
            {
                "key": motive.key,
                "label": motive.label,
                "description": motive.description,
                "privateByDefault": motive.sensitive,
            }
            for motive in MOTIVES
        ],
        "followNotes": {"version": 1, "policies": ["strict", "standard", "open"]},
    }


def nodeinfo_document(
    settings: Settings,
    *,
    users: UserCounts,
    local_posts: int,
    registrations_open: bool,
    extra_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A NodeInfo 2.1 document."""
    software: dict[str, Any] = {"name": "fedinet", "version": __version__}
    if SOFTWARE_REPOSITORY is not None:
        software["repository"] = SOFTWARE_REPOSITORY
    if SOFTWARE_HOMEPAGE is not None:
        software["homepage"] = SOFTWARE_HOMEPAGE
    return {
        "version": "2.1",
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": registrations_open,
        "usage": {
            "users": {
                "total": users.total,
                "activeMonth": users.active_month,
                "activeHalfyear": users.active_halfyear,
            },
            "localPosts": local_posts,
        },
        "metadata": {"nodeName": settings.domain, **(extra_metadata or {})},
    }


async def nodeinfo(db: Executor, settings: Settings) -> dict[str, Any]:
    """The NodeInfo 2.1 document of this instance, with live counts."""
    users = await instance_db.count_users(db)
    mode = await instance_db.get_instance_setting(db, "registration_mode")
    return nodeinfo_document(
        settings,
        users=users,
        local_posts=0,  # no statuses yet
        registrations_open=open_registrations(mode),
        extra_metadata=motive_metadata(),
    )
