"""Authorized fetch: who is asking for a document, when the instance requires it."""

from __future__ import annotations

from datetime import UTC, datetime

from fedinet.db.domain_blocks import is_domain_blocked
from fedinet.errors import BadActivity, RemoteFetchError, SignatureInvalid
from fedinet.federation.actors import ActorResolver
from fedinet.federation.inbox import InboundRequest, verify_signature
from fedinet.models import Actor, ActorKey
from fedinet.runtime import Runtime

__all__ = ["verify_signed_fetch"]


async def verify_signed_fetch(
    runtime: Runtime, request: InboundRequest, *, now: datetime | None = None
) -> Actor:
    """The actor whose valid signature is on this GET; raises SignatureError when there is
    none or it does not verify, DomainBlocked when its domain is blocked."""
    resolver = ActorResolver(runtime)

    async def resolve(key_id: str, refresh: bool) -> tuple[Actor, ActorKey]:
        try:
            return await resolver.key_for(key_id, refresh=refresh)
        except (RemoteFetchError, BadActivity) as exc:
            raise SignatureInvalid(f"could not get the signing key {key_id}: {exc}") from None

    async def blocked(domain: str) -> bool:
        return await is_domain_blocked(runtime.pool, domain)

    signed_by = await verify_signature(
        request, resolve, now=now or datetime.now(UTC), is_blocked=blocked
    )
    return signed_by.actor
