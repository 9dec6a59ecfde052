"""Discovery endpoints: WebFinger, host-meta and NodeInfo. Wire in with ``routes``.

Every answer carries ``Access-Control-Allow-Origin: *``, as Mastodon's do, so that web
clients on other origins can resolve accounts.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.errors import NotFound, ValidationError
from fedinet.runtime import Runtime
from fedinet.services import discovery
from fedinet.web.errors import error_response

__all__ = ["JRD_JSON", "NODEINFO_JSON", "XRD_XML", "routes"]

JRD_JSON: Final = "application/jrd+json; charset=utf-8"
XRD_XML: Final = "application/xrd+xml; charset=utf-8"
NODEINFO_JSON: Final = f'application/json; profile="{discovery.NODEINFO_2_1_PROFILE}"'
_CORS: Final = {"Access-Control-Allow-Origin": "*"}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def webfinger(request: Request) -> Response:
    """``GET /.well-known/webfinger?resource=…`` (RFC 7033).

    400 for a missing or malformed resource, 404 for an unknown account or a foreign
    domain, 410 for a suspended or deleted member; always with a JSON ``error``.
    """
    resource = request.query_params.get("resource", "")
    try:
        actor = await discovery.resolve_webfinger(
            _runtime(request).pool, _settings(request), resource
        )
    except ValidationError as exc:
        return JSONResponse(
            {"error": exc.message, "reason": exc.reason}, status_code=400, headers=_CORS
        )
    except NotFound as exc:  # Gone included: 410
        response = error_response(exc)
        response.headers.update(_CORS)
        return response
    document = discovery.webfinger_document(actor, _settings(request))
    return JSONResponse(document, media_type=JRD_JSON, headers=_CORS)


async def host_meta(request: Request) -> Response:
    """``GET /.well-known/host-meta``: the XRD with WebFinger's ``lrdd`` template."""
    return Response(
        discovery.host_meta_xml(_settings(request)),
        media_type=XRD_XML,
        headers={**_CORS, "Vary": "Accept"},
    )


async def nodeinfo_links(request: Request) -> Response:
    """``GET /.well-known/nodeinfo``: where NodeInfo 2.1 is."""
    return JSONResponse(discovery.nodeinfo_links(_settings(request)), headers=_CORS)


async def nodeinfo(request: Request) -> Response:
    """``GET /nodeinfo/2.1``."""
    document = await discovery.nodeinfo(_runtime(request).pool, _settings(request))
    return JSONResponse(document, media_type=NODEINFO_JSON, headers=_CORS)


routes: list[BaseRoute] = [
    Route("/.well-known/webfinger", webfinger, methods=["GET", "HEAD"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET", "HEAD"]),
    Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET", "HEAD"]),
    Route("/nodeinfo/2.1", nodeinfo, methods=["GET", "HEAD"]),
]
