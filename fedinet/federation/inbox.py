"""What happens to a POST on an inbox: verify who sent it, store it, and nothing more.

Processing happens later in a worker (``fedinet.federation.processing``). This module
never sees a Starlette request: the web layer hands it an :class:`InboundRequest`.

The order of the checks keeps work cheap for bad requests: the signature header must be
there and well formed, the body must be a JSON object, the signing domain must not be
blocked and the date must be fresh, all before any key is fetched from another server.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from fedinet.crypto import HeaderMap, cavage, header_map, rfc9421
from fedinet.db.domain_blocks import is_domain_blocked
from fedinet.db.inbox_batch import InboxRow
from fedinet.errors import (
    ActorMismatch,
    BadActivity,
    DomainBlocked,
    RemoteFetchError,
    SignatureExpired,
    SignatureInvalid,
    SignatureMissing,
)
from fedinet.federation.actors import ActorResolver
from fedinet.federation.inbox_state import inbox_state, public_key_from_pem
from fedinet.models import Actor, ActorKey
from fedinet.runtime import Runtime

__all__ = [
    "MAX_SKEW",
    "InboundRequest",
    "KeyResolver",
    "SignedBy",
    "receive_activity",
    "verify_activity",
    "verify_signature",
]

log = logging.getLogger("fedinet.federation.inbox")

MAX_SKEW = timedelta(hours=12)

# (key_id, refresh) -> the key's owner and the key
KeyResolver = Callable[[str, bool], Awaitable[tuple[Actor, ActorKey]]]


# The per-request classes below are not frozen: a frozen dataclass sets each field
# through object.__setattr__, and on the inbox's path that cost about 3% of the CPU of a
# request. Treat them as read-only all the same.


@dataclass(slots=True)
class InboundRequest:
    """A received HTTP request, as plain data (read-only by convention)."""

    method: str
    url: str
    """Absolute URL as the sender addressed it (our public origin + path + query)."""
    path_with_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    _grouped: HeaderMap | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )
    _text: str | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def text(self) -> str:
        """The body as UTF-8 text (what is parsed and stored). UnicodeDecodeError if not."""
        text = self._text
        if text is None:
            text = self.body.decode("utf-8")
            self._text = text  # a cache of the body
        return text

    def header_map(self) -> HeaderMap:
        """The headers grouped by lower-cased name, built once (the signature modules
        take it as it is)."""
        grouped = self._grouped
        if grouped is None:
            grouped = header_map(self.headers)
            self._grouped = grouped  # a cache of the headers
        return grouped

    def header(self, name: str) -> str | None:
        """The header's value (several fields of that name joined with ``", "``)."""
        values = self.header_map().get(name.lower())
        if values is None:
            return None
        return values[0] if len(values) == 1 else ", ".join(values)


@dataclass(slots=True)
class SignedBy:
    actor: Actor
    key: ActorKey
    scheme: str
    """``cavage`` or ``rfc9421``."""


@dataclass(slots=True)
class _Signature:
    scheme: str
    key_id: str
    cavage: cavage.ParsedSignature | None = None
    rfc9421: rfc9421.SignatureInput | None = None


def _parse_signature(request: InboundRequest) -> _Signature:
    if request.header("signature-input") is not None:
        parsed = rfc9421.parse_signature(request.header_map())
        if not parsed.keyid:
            raise SignatureInvalid("the RFC 9421 signature has no keyid parameter")
        return _Signature("rfc9421", parsed.keyid, rfc9421=parsed)
    value = request.header("signature")
    if value is None:
        authorization = request.header("authorization") or ""
        if authorization.lower().startswith("signature "):
            value = authorization
    if value is None:
        raise SignatureMissing("the request is not signed: no Signature header")
    parsed_cavage = cavage.parse_signature_header(value)
    return _Signature("cavage", parsed_cavage.key_id, cavage=parsed_cavage)


@functools.lru_cache(maxsize=64)
def _http_date(raw: str) -> datetime:
    """Parsed once per distinct value: concurrent senders share the same few dates."""
    try:
        date = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        raise SignatureInvalid(f"the Date header {raw!r} is not an HTTP date") from None
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date


def _check_date(request: InboundRequest, now: datetime) -> None:
    """A cheap freshness check before any key is fetched."""
    raw = request.header("date")
    if raw is None:
        return  # the signature check decides whether a date is required
    date = _http_date(raw)
    if abs(now - date) > MAX_SKEW:
        raise SignatureExpired(
            f"the Date header {raw!r} is more than 12 hours away from this server's clock"
        )


def _verify_with(
    signature: _Signature, request: InboundRequest, key: ActorKey, now: datetime
) -> None:
    try:
        public_key = public_key_from_pem(key.public_key_pem)
    except ValueError:
        raise SignatureInvalid(f"the key {key.key_id} cannot be loaded") from None
    has_body = bool(request.body)
    if signature.cavage is not None:
        cavage.verify_request(
            signature.cavage,
            request.method,
            request.path_with_query,
            request.header_map(),
            public_key,
            now=now,
            max_skew=MAX_SKEW,
            has_body=has_body,
            body=request.body if has_body else None,
        )
    else:
        assert signature.rfc9421 is not None
        rfc9421.verify_request(
            signature.rfc9421,
            request.method,
            request.url,
            request.header_map(),
            public_key,
            now=now,
            max_age=MAX_SKEW,
            has_body=has_body,
            body=request.body if has_body else None,
        )


async def verify_signature(
    request: InboundRequest,
    resolve_key: KeyResolver,
    *,
    now: datetime,
    is_blocked: Callable[[str], Awaitable[bool]] | None = None,
) -> SignedBy:
    """Verify the request's HTTP signature (draft-cavage or RFC 9421) and its digest.

    A cached key that fails is fetched again once (the sender may have rotated it).
    """
    return await _verify_parsed(
        _parse_signature(request), request, resolve_key, now=now, is_blocked=is_blocked
    )


@functools.lru_cache(maxsize=1024)
def _key_host(key_id: str) -> str:
    """The lower-cased ``host[:port]`` of a key id ("" when it has no host): what domain
    blocks are matched against (a block on the host covers every port)."""
    parts = urlsplit(key_id)
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return host
    return host if port is None else f"{host}:{port}"


async def _verify_parsed(
    signature: _Signature,
    request: InboundRequest,
    resolve_key: KeyResolver,
    *,
    now: datetime,
    is_blocked: Callable[[str], Awaitable[bool]] | None,
) -> SignedBy:
    host = _key_host(signature.key_id)
    if not host:
        raise SignatureInvalid(f"the keyId {signature.key_id!r} is not an absolute URL")
    if is_blocked is not None and await is_blocked(host):
        raise DomainBlocked(f"the domain {host} is blocked on this instance")
    _check_date(request, now)
    actor, key = await resolve_key(signature.key_id, False)
    try:
        _verify_with(signature, request, key, now)
    except SignatureInvalid:
        log.info("signature failed with the cached key; refetching key_id=%s", signature.key_id)
        actor, fresh = await resolve_key(signature.key_id, True)
        if fresh.public_key_pem == key.public_key_pem:
            raise
        key = fresh
        _verify_with(signature, request, key, now)
    return SignedBy(actor=actor, key=key, scheme=signature.scheme)


def parse_activity(body: bytes | str) -> dict[str, Any]:
    try:
        activity = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadActivity(f"the body is not valid JSON: {exc}") from None
    if not isinstance(activity, dict):
        raise BadActivity("the body must be a JSON object (an activity)")
    if not isinstance(activity.get("type"), str) or not activity["type"]:
        raise BadActivity("the activity has no type")
    return activity


def object_id(value: Any) -> str | None:
    """The id of a value that is either an id string or an object with an ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


@functools.lru_cache(maxsize=1024)
def _origin_prefix(actor_id: str) -> str | None:
    """``scheme://host/`` exactly as ``actor_id`` starts, or None if it does not start so."""
    parts = urlsplit(actor_id)
    prefix = f"{parts.scheme}://{parts.netloc}/"
    return prefix if parts.netloc and actor_id.startswith(prefix) else None


def _on_actor_host(activity_id: str, actor_id: str) -> bool:
    """Whether ``activity_id``'s host (and port) is ``actor_id``'s, case-insensitively."""
    prefix = _origin_prefix(actor_id)  # actors send many activities
    if prefix is not None and activity_id.startswith(prefix):
        return True  # the usual case; the same answer as below, without parsing the id
    return urlsplit(activity_id).netloc.lower() == urlsplit(actor_id).netloc.lower()


def check_ownership(activity: dict[str, Any], signed_by: Actor) -> None:
    """The signer must be the activity's actor, and the activity id on its host."""
    actor_id = object_id(activity.get("actor"))
    if actor_id is None:
        raise BadActivity("the activity has no actor")
    if actor_id != signed_by.uri:
        raise ActorMismatch(
            f"the request is signed by {signed_by.uri}, but the activity's actor is {actor_id}"
        )
    activity_id = activity.get("id")
    if activity_id is not None:
        if not isinstance(activity_id, str):
            raise BadActivity("the activity id must be a string")
        if not _on_actor_host(activity_id, actor_id):
            raise ActorMismatch(
                f"the activity id {activity_id} is not on the actor's server "
                f"({urlsplit(actor_id).netloc})"
            )


async def verify_activity(
    request: InboundRequest,
    resolve_key: KeyResolver,
    *,
    now: datetime,
    is_blocked: Callable[[str], Awaitable[bool]] | None = None,
) -> tuple[dict[str, Any], SignedBy]:
    """Everything the inbox checks before storing: body, signature, ownership."""
    signature = _parse_signature(request)  # fail fast on a missing or malformed signature
    try:
        text = request.text()
    except UnicodeDecodeError as exc:
        raise BadActivity(f"the body is not valid JSON: {exc}") from None
    activity = parse_activity(text)
    signed_by = await _verify_parsed(
        signature, request, resolve_key, now=now, is_blocked=is_blocked
    )
    check_ownership(activity, signed_by.actor)
    return activity, signed_by


class _UnknownActorDeleted(Exception):
    """Internal: the Delete of an actor whose server no longer serves it."""


def _is_self_delete(activity: dict[str, Any]) -> bool:
    return activity.get("type") == "Delete" and object_id(activity.get("object")) == object_id(
        activity.get("actor")
    )


async def receive_activity(
    runtime: Runtime,
    request: InboundRequest,
    *,
    recipient: Actor | None,
    now: datetime | None = None,
    resolver: ActorResolver | None = None,
) -> bool:
    """Verify and durably store an incoming activity. True when newly stored; False for a
    replay of an activity already stored, or a Delete of an actor we never knew.

    Keys and domain-block answers come from this process's caches when fresh (see
    :mod:`fedinet.federation.inbox_state`); a key that fails to verify is fetched again
    from its server. The row is committed together with those of concurrent requests
    (group commit) before this returns.
    """
    now = now or datetime.now(UTC)
    state = inbox_state(runtime)

    async def fetch_key(key_id: str, refresh: bool = False) -> tuple[Actor, ActorKey]:
        nonlocal resolver
        if resolver is None:
            resolver = ActorResolver(runtime)
        return await resolver.key_for(key_id, refresh=refresh)

    async def resolve(key_id: str, refresh: bool) -> tuple[Actor, ActorKey]:
        try:
            if refresh:
                state.keys.pop(key_id)
                found = await fetch_key(key_id, refresh=True)
                state.keys.put(key_id, found)
                return found
            cached = state.keys.lookup(key_id, fetch_key)
            if cached is not None:
                return cached
            # Requests signed with this key while it is being looked up wait for the
            # same lookup; each handles a failure for itself (see below).
            return await state.keys.get_or_load(key_id, fetch_key)
        except RemoteFetchError as exc:
            if exc.reason in ("gone", "not_found") and _is_self_delete(
                parse_activity(request.body)
            ):
                raise _UnknownActorDeleted from None
            raise SignatureInvalid(f"could not get the signing key {key_id}: {exc}") from None
        except BadActivity as exc:
            raise SignatureInvalid(f"could not get the signing key {key_id}: {exc}") from None

    async def block_lookup(domain: str) -> bool:
        return await is_domain_blocked(runtime.pool, domain)

    async def blocked(domain: str) -> bool:
        cached = state.blocks.lookup(domain, block_lookup)
        if cached is None:
            cached = await state.blocks.get_or_load(domain, block_lookup)
        return cached

    try:
        activity, signed_by = await verify_activity(request, resolve, now=now, is_blocked=blocked)
    except _UnknownActorDeleted:
        # A deleted account's server announces the deletion, then answers 410 for the
        # actor: there is nothing of it here to delete, so accept and drop (as Mastodon).
        log.info("dropped the Delete of an actor this server never knew")
        return False
    return await state.batcher.insert(
        InboxRow(
            activity_id=activity.get("id"),
            activity_type=str(activity["type"]),
            actor_uri=signed_by.actor.uri,
            recipient_actor_id=recipient.id if recipient else None,
            key_id=signed_by.key.key_id,
            body_json=request.text(),  # decoded once, when parsed
        )
    )
