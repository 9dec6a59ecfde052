"""Media uploads: ``POST /api/v2/media`` and ``/api/v1/media``, ``GET``/``PUT``/``DELETE
/api/v1/media/:id``, and the uploaded files at ``/system/media/<name>``.

Images are checked and measured while the request is served, so the upload is already
processed when it is answered: ``200`` with its ``url``, as Mastodon answers for images
(Mastodon's ``202`` with a null ``url`` is for media it transcodes later, which fedinet
does not accept). Scopes: ``write:media`` (or ``write``).
"""

from __future__ import annotations

from typing import Any, Final

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from fedinet.config import Settings
from fedinet.db.media import MediaAttachment
from fedinet.errors import NotFound, ValidationError
from fedinet.runtime import Runtime
from fedinet.services import media
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import media_attachment_to_mastodon
from fedinet.web.api.params import Params, add_param, first, read_params

__all__ = ["UploadLimit", "limit_uploads", "media_entity", "read_upload", "routes"]

_MAX_FIELDS: Final = 20
_FORM_ROOM: Final = 64 * 1024
"""Room for a multipart form's other fields and boundaries beside its files."""
_FILE_HEADERS: Final = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Access-Control-Allow-Origin": "*",
}


class UploadLimit:
    """ASGI wrapper refusing, with 413 before it is stored anywhere, a request body larger
    than ``files`` uploads of the configured size (``FEDINET_MEDIA_MAX_BYTES``) plus room
    for the form. Smaller but still too large files are refused with 422 by the
    endpoint, which says which file."""

    def __init__(self, app: ASGIApp, *, files: int) -> None:
        self.app = app
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings: Settings = scope["app"].state.settings
        limit = self.files * settings.media_max_bytes + _FORM_ROOM
        await RequestBodyLimitMiddleware(self.app, max_body_size=limit)(scope, receive, send)


def limit_uploads(route: Route, *, files: int) -> Route:
    """``route`` with its body limited by :class:`UploadLimit`."""
    route.app = UploadLimit(route.app, files=files)
    return route


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def media_entity(settings: Settings, row: MediaAttachment) -> dict[str, Any]:
    """The MediaAttachment entity of an upload."""
    return media_attachment_to_mastodon(media.attachment_json(settings, row), str(row.id))


async def read_upload(
    request: Request, settings: Settings, names: tuple[str, ...]
) -> tuple[Params, dict[str, bytes]]:
    """A multipart form's text fields and the bytes of its files named ``names``. A file
    larger than the media limit is a ``ValidationError`` (422)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        return await read_params(request), {}
    params: Params = {}
    for key, value in request.query_params.multi_items():
        add_param(params, key, value)
    files: dict[str, bytes] = {}
    try:
        async with request.form(
            max_files=len(names),
            max_fields=_MAX_FIELDS,
            max_part_size=settings.media_max_bytes + 1,
        ) as form:
            for key, item in form.multi_items():
                if isinstance(item, UploadFile):
                    if key in names and key not in files:
                        files[key] = await item.read(settings.media_max_bytes + 1)
                else:
                    add_param(params, key, item)
    except HTTPException as exc:  # the multipart parser's limits
        raise ValidationError(
            f"the upload was refused: {exc.detail}", field=names[0], reason="bad_media"
        ) from None
    return params, files


async def _upload(request: Request) -> dict[str, Any]:
    me = await require_scope(request, "write:media")
    runtime = _runtime(request)
    # A thumbnail is read (clients may send one) but not used: images are their own.
    params, files = await read_upload(request, runtime.settings, ("file", "thumbnail"))
    data = files.get("file")
    if data is None:
        raise ValidationError("Validation failed: File can't be blank", field="file")
    row = await media.save_upload(
        runtime.pool,
        runtime.settings,
        me.actor.id,
        data,
        description=first(params, "description"),
        focus=first(params, "focus"),
    )
    return media_entity(runtime.settings, row)


async def upload_v2(request: Request) -> Response:
    """``POST /api/v2/media``: processed at once for images, hence 200 with the url."""
    return JSONResponse(await _upload(request))


async def upload_v1(request: Request) -> Response:
    """``POST /api/v1/media`` (deprecated in Mastodon, still used by older clients)."""
    return JSONResponse(await _upload(request))


def _media_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit() or int(raw) >= 2**63:
        raise NotFound("Record not found")
    return int(raw)


async def get_media(request: Request) -> Response:
    me = await require_scope(request, "write:media")
    runtime = _runtime(request)
    row = await media.uploaded_media(runtime.pool, me.actor.id, _media_id(request))
    return JSONResponse(media_entity(runtime.settings, row))


async def update_media(request: Request) -> Response:
    me = await require_scope(request, "write:media")
    runtime = _runtime(request)
    params = await read_params(request)
    row = await media.update_media(
        runtime.pool,
        me.actor.id,
        _media_id(request),
        description=first(params, "description"),
        focus=first(params, "focus"),
    )
    return JSONResponse(media_entity(runtime.settings, row))


async def delete_media(request: Request) -> Response:
    me = await require_scope(request, "write:media")
    runtime = _runtime(request)
    row = await media.delete_media(runtime.pool, runtime.settings, me.actor.id, _media_id(request))
    return JSONResponse(media_entity(runtime.settings, row))


async def media_file(request: Request) -> Response:
    """An uploaded file, by its random name; never a path outside the media directory."""
    name: str = request.path_params["name"]
    match = media.FILE_NAME_RE.match(name)
    settings: Settings = request.app.state.settings
    path = settings.media_dir / name
    if match is None or not path.is_file():
        return JSONResponse({"error": "Record not found"}, status_code=404)
    return FileResponse(
        path, media_type=media.CONTENT_TYPES[match.group(1)], headers=dict(_FILE_HEADERS)
    )


routes: list[BaseRoute] = [
    limit_uploads(Route("/api/v2/media", upload_v2, methods=["POST"]), files=1),
    limit_uploads(Route("/api/v1/media", upload_v1, methods=["POST"]), files=1),
    Route("/api/v1/media/{id}", get_media, methods=["GET"]),
    Route("/api/v1/media/{id}", update_media, methods=["PUT"]),
    Route("/api/v1/media/{id}", delete_media, methods=["DELETE"]),
    Route(media.MEDIA_PATH + "/{name}", media_file, methods=["GET", "HEAD"]),
]
