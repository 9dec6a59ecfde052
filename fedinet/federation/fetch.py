"""Fetching remote ActivityPub documents and resolving WebFinger addresses.

Every fetch is bounded: the body is read streamed and refused past ``max_bytes``, the whole
fetch (redirects included) has a time limit, redirects are followed by hand so each hop goes
through the scheme policy and the SSRF guard again, and the document must be a JSON object
of an expected media type whose ``id`` lives on the host it was fetched from.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from fedinet.errors import RemoteFetchError
from fedinet.federation.signing import Signer, send_signed
from fedinet.federation.transport import candidate_urls, read_capped, url_authority

__all__ = [
    "AP_ACCEPT",
    "AS_CONTEXT",
    "JRD_ACCEPT",
    "FetchedDocument",
    "fetch_json",
    "webfinger",
]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AP_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_CONTEXT}"'
JRD_ACCEPT = "application/jrd+json"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class FetchedDocument:
    url: str
    """The URL the document was finally read from (after redirects and scheme policy)."""
    document: dict[str, Any]
    content_type: str
    """The media type, lower-cased, without parameters."""


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _is_ap_type(value: str) -> bool:
    """``application/activity+json``, or ``application/ld+json`` with the AS2 profile."""
    media, _, params = value.partition(";")
    media = media.strip().lower()
    if media == "application/activity+json":
        return True
    if media != "application/ld+json":
        return False
    for param in params.split(";"):
        name, _, raw = param.partition("=")
        if name.strip().lower() == "profile" and AS_CONTEXT in raw.strip().strip('"').split():
            return True
    return False


def _accepted_types(accept: str) -> frozenset[str]:
    """Media types of an Accept value, plus ``application/json`` which everyone may send."""
    return frozenset(_media_type(part) for part in accept.split(",") if part.strip()) | {
        "application/json"
    }


async def _open(
    client: httpx.AsyncClient, url: str, *, signer: Signer | None, accept: str
) -> httpx.Response:
    headers = {"Accept": accept}
    if signer is not None:
        response, _fmt = await send_signed(
            client, "GET", url, signer=signer, fmt="cavage", headers=headers, stream=True
        )
        return response
    request = client.build_request("GET", url, headers=headers)
    return await client.send(request, stream=True)


async def _open_with_fallback(
    client: httpx.AsyncClient, url: str, *, signer: Signer | None, accept: str, allow_private: bool
) -> httpx.Response:
    candidates = await candidate_urls(url, allow_private)
    for index, candidate in enumerate(candidates):
        try:
            return await _open(client, candidate, signer=signer, accept=accept)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if index == len(candidates) - 1:
                raise RemoteFetchError(
                    f"cannot connect to {url_authority(candidate)}: {exc}", reason="unreachable"
                ) from None
    raise AssertionError("candidate_urls returned nothing")  # pragma: no cover


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    url = str(response.request.url)
    if status == 404:
        raise RemoteFetchError(f"{url} does not exist (HTTP 404)", reason="not_found")
    if status == 410:
        raise RemoteFetchError(f"{url} was deleted (HTTP 410)", reason="gone")
    if not 200 <= status < 300:
        raise RemoteFetchError(f"{url} answered HTTP {status}", reason="http_error")


def _parse_object(raw: bytes, url: str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise RemoteFetchError(f"{url} did not send valid JSON", reason="bad_document") from None
    if not isinstance(document, dict):
        raise RemoteFetchError(
            f"{url} sent JSON that is not an object ({type(document).__name__})",
            reason="bad_document",
        )
    return document


def _check_id(document: dict[str, Any], url: str) -> None:
    doc_id = document.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise RemoteFetchError(f"the document at {url} has no id", reason="bad_document")
    try:
        id_authority = url_authority(doc_id)
    except RemoteFetchError:
        id_authority = ""
    if urlsplit(doc_id).scheme.lower() not in ("http", "https") or id_authority != url_authority(
        url
    ):
        raise RemoteFetchError(
            f"id host does not match: the document at {url} claims the id {doc_id}",
            reason="id_mismatch",
        )


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    signer: Signer | None,
    allow_private: bool,
    accept: str,
    max_bytes: int,
    max_redirects: int,
    expect_id_host: bool,
) -> FetchedDocument:
    allowed_types = _accepted_types(accept)
    for _hop in range(max_redirects + 1):
        response = await _open_with_fallback(
            client, url, signer=signer, accept=accept, allow_private=allow_private
        )
        try:
            final_url = str(response.request.url)
            if response.status_code in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise RemoteFetchError(
                        f"{final_url} redirects without a Location", reason="http_error"
                    )
                url = str(response.request.url.join(location))
                continue
            _check_status(response)
            content_type = _media_type(response.headers.get("Content-Type", ""))
            if content_type not in allowed_types:
                raise RemoteFetchError(
                    f"{final_url} sent {content_type or 'no content type'}, "
                    f"expected one of {', '.join(sorted(allowed_types))}",
                    reason="bad_content_type",
                )
            raw = await read_capped(response, max_bytes)
        finally:
            await response.aclose()
        document = _parse_object(raw, final_url)
        if expect_id_host:
            _check_id(document, final_url)
        return FetchedDocument(url=final_url, document=document, content_type=content_type)
    raise RemoteFetchError(
        f"more than {max_redirects} redirects while fetching {url}", reason="too_many_redirects"
    )


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    signer: Signer | None,
    allow_private: bool,
    accept: str = AP_ACCEPT,
    max_bytes: int = 1_048_576,
    max_redirects: int = 3,
    expect_id_host: bool = True,
    time_limit: float = 30.0,
) -> FetchedDocument:
    """Fetch a remote JSON object, signed by ``signer`` (authorized fetch) when given.

    Accepted media types are those in ``accept`` plus ``application/json``. Every failure
    raises :class:`~fedinet.errors.RemoteFetchError` with a ``reason``: ``not_found`` (404),
    ``gone`` (410), ``http_error``, ``bad_content_type``, ``too_large``, ``bad_document``,
    ``id_mismatch``, ``too_many_redirects``, ``timeout`` (``time_limit`` seconds for the whole
    fetch), ``unreachable``, ``bad_url``, or ``unsafe_address``
    (:class:`~fedinet.errors.UnsafeAddress`, the SSRF guard).
    """
    try:
        async with asyncio.timeout(time_limit):
            return await _fetch(
                client,
                url,
                signer=signer,
                allow_private=allow_private,
                accept=accept,
                max_bytes=max_bytes,
                max_redirects=max_redirects,
                expect_id_host=expect_id_host,
            )
    except (TimeoutError, httpx.TimeoutException):
        raise RemoteFetchError(
            f"fetching {url} took longer than allowed", reason="timeout"
        ) from None
    except httpx.InvalidURL as exc:
        raise RemoteFetchError(f"invalid URL {url!r}: {exc}", reason="bad_url") from None
    except httpx.HTTPError as exc:
        raise RemoteFetchError(f"fetching {url} failed: {exc}", reason="unreachable") from None


def _split_acct(acct: str) -> tuple[str, str]:
    text = acct.strip()
    text = text.removeprefix("acct:").removeprefix("@")
    user, sep, host = text.rpartition("@")
    if not sep or not user or not host or any(c in host for c in "/?#@ "):
        raise RemoteFetchError(f"not a user@host address: {acct!r}", reason="bad_url")
    return user, host.lower()


async def webfinger(
    client: httpx.AsyncClient, acct: str, *, allow_private: bool, time_limit: float = 30.0
) -> str:
    """Resolve ``user@host`` (``@user@host`` and ``acct:user@host`` too) to its actor URL."""
    user, host = _split_acct(acct)
    query = urlencode({"resource": f"acct:{user}@{host}"})
    fetched = await fetch_json(
        client,
        f"https://{host}/.well-known/webfinger?{query}",
        signer=None,
        allow_private=allow_private,
        accept=JRD_ACCEPT,
        expect_id_host=False,
        time_limit=time_limit,
    )
    links = fetched.document.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        href = link.get("href")
        if not _is_ap_type(str(link.get("type", ""))):
            continue
        if isinstance(href, str) and urlsplit(href).scheme in ("http", "https"):
            return href
    raise RemoteFetchError(
        f"WebFinger for {user}@{host} has no ActivityPub actor link", reason="not_found"
    )
