"""Finding accounts and statuses by handle or URL, asking other servers when allowed."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fedinet.db import actors as actors_db
from fedinet.db import statuses as statuses_db
from fedinet.db.counts import get_remote_actor_by_acct
from fedinet.errors import FederationError
from fedinet.federation.actors import ActorResolver
from fedinet.federation.fetch import webfinger
from fedinet.federation.notes import fetch_remote_status
from fedinet.models import Actor, Status
from fedinet.runtime import Runtime

__all__ = ["resolve_acct", "resolve_url"]

log = logging.getLogger("fedinet.federation.lookup")


def split_acct(acct: str, local_domain: str) -> tuple[str, str | None]:
    """``@user@domain`` / ``user@domain`` / ``user`` -> (user, domain or None if local)."""
    acct = acct.strip().removeprefix("acct:").lstrip("@")
    username, _, domain = acct.partition("@")
    domain = domain.lower()
    return username, (None if not domain or domain == local_domain else domain)


async def resolve_acct(runtime: Runtime, acct: str, *, resolve: bool) -> Actor | None:
    """The account ``acct``: local, already known, or (with ``resolve``) found through
    WebFinger on its server. None when there is no such account."""
    username, domain = split_acct(acct, runtime.settings.domain)
    if not username:
        return None
    if domain is None:
        return await actors_db.get_local_actor_by_username(runtime.pool, username)
    known = await get_remote_actor_by_acct(runtime.pool, username, domain)
    if known is not None or not resolve:
        return known
    try:
        uri = await webfinger(
            runtime.http,
            f"{username}@{domain}",
            allow_private=runtime.settings.allow_private_networks,
        )
        return await ActorResolver(runtime).get_actor(uri)
    except FederationError as exc:
        log.info("could not resolve acct=%s@%s reason=%s", username, domain, exc)
        return None


async def resolve_url(runtime: Runtime, url: str, *, resolve: bool) -> Actor | Status | None:
    """An account or a status by its URL/id; fetched from its server with ``resolve``."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    actor = await actors_db.get_actor_by_uri(runtime.pool, url)
    if actor is not None:
        return actor
    status = await statuses_db.get_status_by_uri(runtime.pool, url)
    if status is not None or not resolve:
        return status
    try:
        return await fetch_remote_status(runtime, url)
    except FederationError:
        pass
    try:
        return await ActorResolver(runtime).get_actor(url)
    except FederationError as exc:
        log.info("could not resolve url=%s reason=%s", url, exc)
        return None
