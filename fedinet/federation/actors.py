"""Finding remote actors and their keys: from the database, else from their server.

Remote actors are cached in PostgreSQL (``actors`` and ``actor_keys``) with the time they
were fetched. A key that fails to verify a signature is re-fetched once, so that a remote
key rotation does not lock its owner out.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urldefrag, urlsplit

import asyncpg

from fedinet.ap.actors import RemoteActor, ap_to_actor
from fedinet.db import actors as actors_db
from fedinet.db.domain_blocks import is_domain_blocked
from fedinet.errors import BadActivity, DomainBlocked
from fedinet.federation.fetch import fetch_json
from fedinet.federation.inbox_state import forget_actor_keys
from fedinet.federation.signing import Signer
from fedinet.models import Actor, ActorKey
from fedinet.runtime import Runtime

__all__ = ["ActorResolver", "instance_signer", "store_remote_actor"]

log = logging.getLogger("fedinet.federation.actors")

# How long a fetched actor is trusted before it is refreshed on use.
ACTOR_TTL = timedelta(days=1)


async def instance_signer(runtime: Runtime) -> Signer:
    """The instance actor's RSA key, used for signed fetches (authorized fetch)."""
    key = await actors_db.get_local_private_key(runtime.pool, runtime.instance_actor.id, "rsa")
    if key is None or key.private_key_pem is None:
        raise RuntimeError("the instance actor has no private key")
    return Signer(key_id=key.key_id, private_key_pem=key.private_key_pem)


async def store_remote_actor(runtime: Runtime, remote: RemoteActor) -> Actor:
    """Upsert a parsed remote actor and its keys in one transaction."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        try:
            actor = await actors_db.upsert_remote_actor(
                conn,
                uri=remote.uri,
                actor_type=remote.actor_type,
                username=remote.username,
                domain=remote.domain,
                display_name=remote.display_name,
                summary=remote.summary,
                url=remote.url,
                inbox_uri=remote.inbox_uri,
                outbox_uri=remote.outbox_uri,
                shared_inbox_uri=remote.shared_inbox_uri,
                followers_uri=remote.followers_uri,
                following_uri=remote.following_uri,
                featured_uri=remote.featured_uri,
                manually_approves_followers=remote.manually_approves_followers,
                discoverable=remote.discoverable,
                indexable=remote.indexable,
                avatar_url=remote.avatar_url,
                header_url=remote.header_url,
                fields=list(remote.fields),
                raw=remote.raw,
                published=remote.published,
                motives=remote.motives,
                interests=remote.interests,
                region=remote.region,
                follow_note_policy=remote.follow_note_policy,
            )
        except asyncpg.UniqueViolationError:
            raise BadActivity(
                f"{remote.uri} claims the handle {remote.username}@{remote.domain}, "
                "which another actor of that server holds"
            ) from None
        except ValueError as exc:
            raise BadActivity(str(exc)) from None
        await actors_db.replace_remote_keys(
            conn, actor.id, [(k.key_id, k.kind, k.public_key_pem) for k in remote.keys]
        )
    forget_actor_keys(runtime, actor.id)  # the inbox's key cache reads them again
    return actor


class ActorResolver:
    """Resolves key ids and actor ids for one process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._signer: Signer | None = None

    async def signer(self) -> Signer:
        if self._signer is None:
            self._signer = await instance_signer(self.runtime)
        return self._signer

    async def _check_domain(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            raise BadActivity(f"{url!r} is not an absolute URL")
        if await is_domain_blocked(self.runtime.pool, host):
            raise DomainBlocked(f"the domain {host} is blocked on this instance")

    async def fetch_actor(self, uri: str) -> Actor:
        """Fetch ``uri`` from its server and store it (always a network round trip)."""
        await self._check_domain(uri)
        fetched = await fetch_json(
            self.runtime.http,
            uri,
            signer=await self.signer(),
            allow_private=self.runtime.settings.allow_private_networks,
        )
        document = fetched.document
        # Some servers (GoToSocial) serve a key document at the key id: follow its owner.
        if "publicKeyPem" in document and isinstance(document.get("owner"), str):
            owner = document["owner"]
            if urlsplit(owner).netloc != urlsplit(fetched.url).netloc:
                raise BadActivity(f"the key at {fetched.url} names a foreign owner {owner}")
            await self._check_domain(owner)
            fetched = await fetch_json(
                self.runtime.http,
                owner,
                signer=await self.signer(),
                allow_private=self.runtime.settings.allow_private_networks,
            )
            document = fetched.document
        remote = ap_to_actor(document, fetched_from=fetched.url)
        return await store_remote_actor(self.runtime, remote)

    async def get_actor(self, uri: str, *, refresh: bool = False) -> Actor:
        """The actor ``uri``: from the cache while fresh, else fetched."""
        if not refresh:
            actor = await actors_db.get_actor_by_uri(self.runtime.pool, uri)
            if actor is not None and (actor.is_local or not _stale(actor)):
                return actor
        return await self.fetch_actor(uri)

    async def key_for(self, key_id: str, *, refresh: bool = False) -> tuple[Actor, ActorKey]:
        """The key ``key_id`` and its owner. ``refresh`` forces a fetch from the server."""
        if not refresh:
            found = await actors_db.get_actor_and_key(self.runtime.pool, key_id)
            if found is not None:
                return found
        await self._check_domain(key_id)
        actor_url, _fragment = urldefrag(key_id)
        await self.fetch_actor(actor_url)
        found = await actors_db.get_actor_and_key(self.runtime.pool, key_id)
        if found is None:
            raise BadActivity(f"the document at {actor_url} does not publish the key {key_id}")
        return found


def _stale(actor: Actor) -> bool:
    if actor.fetched_at is None:
        return True
    return datetime.now(UTC) - actor.fetched_at > ACTOR_TTL
