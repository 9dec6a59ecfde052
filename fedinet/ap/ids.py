"""The ids (URIs) fedinet mints for its own objects. Pure functions of the base URL."""

from __future__ import annotations

__all__ = [
    "INSTANCE_ACTOR_PATH",
    "LocalActorIds",
    "activity_uri",
    "instance_actor_ids",
    "local_actor_ids",
    "status_uri",
    "status_url",
]

from dataclasses import dataclass

INSTANCE_ACTOR_PATH = "/actor"


@dataclass(frozen=True, slots=True)
class LocalActorIds:
    uri: str
    url: str
    inbox: str
    outbox: str
    shared_inbox: str
    followers: str
    following: str
    featured: str
    main_key: str
    ed25519_key: str


def _actor_ids(base_url: str, uri: str, url: str) -> LocalActorIds:
    return LocalActorIds(
        uri=uri,
        url=url,
        inbox=f"{uri}/inbox",
        outbox=f"{uri}/outbox",
        shared_inbox=f"{base_url}/inbox",
        followers=f"{uri}/followers",
        following=f"{uri}/following",
        featured=f"{uri}/collections/featured",
        main_key=f"{uri}#main-key",
        ed25519_key=f"{uri}#ed25519-key",
    )


def local_actor_ids(base_url: str, username: str) -> LocalActorIds:
    return _actor_ids(base_url, f"{base_url}/users/{username}", f"{base_url}/@{username}")


def instance_actor_ids(base_url: str) -> LocalActorIds:
    return _actor_ids(base_url, f"{base_url}{INSTANCE_ACTOR_PATH}", f"{base_url}/about")


def status_uri(base_url: str, username: str, status_id: int) -> str:
    return f"{base_url}/users/{username}/statuses/{status_id}"


def status_url(base_url: str, username: str, status_id: int) -> str:
    return f"{base_url}/@{username}/{status_id}"


def activity_uri(base_url: str, activity_id: int) -> str:
    """Every activity a local member authors is dereferenceable here."""
    return f"{base_url}/activities/{activity_id}"
