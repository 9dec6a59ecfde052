"""Uploaded media: checking what a file really is, storing it, describing it.

The type is read from the file's first bytes, never from its name or the client's
``Content-Type``. Images (PNG, JPEG, GIF and WebP) are accepted everywhere; video and
audio (see :mod:`fedinet.services.media_probe`) as status attachments, not as avatars
or headers. Anything else is refused. An image's dimensions come from the format's own
header (no image library is needed for that):

- PNG: the ``IHDR`` chunk, which must come first;
- GIF: the logical screen descriptor;
- JPEG: the first start-of-frame (``SOF0`` to ``SOF15`` but ``DHT``/``JPG``/``DAC``) segment;
- WebP: the ``VP8 `` (lossy), ``VP8L`` (lossless) or ``VP8X`` (extended) chunk.

A file whose header cannot be read, or which claims more pixels than
:data:`MAX_PIXELS` (Mastodon's ``image_matrix_limit``), is refused with a
:class:`ValidationError` (422 in the API).

Files are written under ``<data_dir>/media`` with a random name and served at
``{url}/system/media/<name>`` (see ``fedinet.web.api.media``).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from fedinet.config import Settings
from fedinet.db import media as media_db
from fedinet.db.ids import next_id
from fedinet.db.media import MediaAttachment
from fedinet.db.types import Executor
from fedinet.errors import NotFound, ValidationError
from fedinet.services.media_probe import MAX_VIDEO_PIXELS, MediaInfo, probe_video_or_audio

__all__ = [
    "DESCRIPTION_LIMIT",
    "EXTENSIONS",
    "FILE_NAME_RE",
    "MAX_ATTACHMENTS",
    "MAX_PIXELS",
    "MEDIA_PATH",
    "MediaInfo",
    "attachment_json",
    "delete_media",
    "media_for_status",
    "media_url",
    "parse_focus",
    "save_upload",
    "sniff_image",
    "sniff_media",
    "store_image_file",
    "store_media_file",
    "update_media",
    "uploaded_media",
]

MEDIA_PATH: Final = "/system/media"
MAX_PIXELS: Final = 33_177_600
DESCRIPTION_LIMIT: Final = 1500
MAX_ATTACHMENTS: Final = 4
FILE_NAME_RE: Final = re.compile(
    r"^[0-9]+-[A-Za-z0-9_-]{16,}\.(png|jpg|gif|webp|mp4|mov|webm|m4a|weba|mp3|ogg|wav|flac)$"
)
EXTENSIONS: Final = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mp4": "m4a",
    "audio/webm": "weba",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/flac": "flac",
}
CONTENT_TYPES: Final = {ext: mime for mime, ext in EXTENSIONS.items()}


def _bad(message: str) -> ValidationError:
    return ValidationError(message, field="file", reason="bad_media")


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise _bad("the PNG file has no IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _gif(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        raise _bad("the GIF file is truncated")
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


# Start-of-frame markers: C0 to CF except C4 (DHT), C8 (JPG) and CC (DAC).
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise _bad("the JPEG file is malformed")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            raise _bad("the JPEG file is malformed")
        if marker in _SOF:
            if i + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame
            break
        i += 2 + length
    raise _bad("the JPEG file has no frame header")


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise _bad("the WebP file has no VP8, VP8L or VP8X header")


def _image_type(data: bytes) -> str | None:
    """The image type the file's signature names, if any."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


_READERS: Final = {"image/png": _png, "image/jpeg": _jpeg, "image/gif": _gif, "image/webp": _webp}


def sniff_image(data: bytes) -> MediaInfo:
    """The type and size of an image from its bytes; :class:`ValidationError` if it is
    not a PNG, JPEG, GIF or WebP with sane dimensions."""
    content_type = _image_type(data)
    if content_type is None:
        raise _bad("the file is not a supported image (PNG, JPEG, GIF or WebP)")
    width, height = _READERS[content_type](data)
    if width <= 0 or height <= 0:
        raise _bad("the image has no pixels")
    if width * height > MAX_PIXELS:
        raise _bad(f"the image has more than {MAX_PIXELS} pixels")
    return MediaInfo("image", content_type, width, height)


def sniff_media(data: bytes) -> MediaInfo:
    """What an attachment is: an image (as :func:`sniff_image` reads it), a video or an
    audio file; :class:`ValidationError` for anything else."""
    if _image_type(data) is not None:
        return sniff_image(data)
    try:
        probed = probe_video_or_audio(data)
    except ValueError as exc:
        raise _bad(f"the video or audio file cannot be read: {exc}") from None
    if probed is None:
        raise _bad(
            "the file is not a supported image (PNG, JPEG, GIF or WebP), video "
            "(MP4, QuickTime or WebM) or audio file (MP3, Ogg, WAV, FLAC or M4A)"
        )
    if probed.width and probed.height and probed.width * probed.height > MAX_VIDEO_PIXELS:
        raise _bad(f"the video has more than {MAX_VIDEO_PIXELS} pixels a frame")
    return probed


def _check_size(settings: Settings, data: bytes) -> None:
    if not data:
        raise _bad("the file is empty")
    if len(data) > settings.media_max_bytes:
        raise _bad(f"the file is larger than {settings.media_max_bytes} bytes")


def _write(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{name}.part"
    with open(temporary, "wb") as out:
        out.write(data)
    os.replace(temporary, directory / name)


async def _store(settings: Settings, prefix: int, data: bytes, content_type: str) -> str:
    """Write checked ``data`` under the media directory, named for ``prefix`` and type."""
    name = f"{prefix}-{secrets.token_urlsafe(18)}.{EXTENSIONS[content_type]}"
    await asyncio.to_thread(_write, settings.media_dir, name, data)
    return name


async def store_image_file(settings: Settings, prefix: int, data: bytes) -> tuple[str, MediaInfo]:
    """Check ``data`` and write it under the media directory; (file name, what it is)."""
    _check_size(settings, data)
    info = sniff_image(data)
    return await _store(settings, prefix, data, info.content_type), info


async def store_media_file(settings: Settings, prefix: int, data: bytes) -> tuple[str, MediaInfo]:
    """:func:`store_image_file` for an attachment, which may also be a video or audio."""
    _check_size(settings, data)
    info = sniff_media(data)
    return await _store(settings, prefix, data, info.content_type), info


def media_url(settings: Settings, file_name: str) -> str:
    return f"{settings.url}{MEDIA_PATH}/{file_name}"


def parse_focus(value: str | None) -> tuple[float, float] | None:
    """``"x,y"`` with both in -1…1 (Mastodon's focal point); None when not given."""
    if value is None or value.strip() == "":
        return None
    parts = value.split(",")
    try:
        x, y = (float(p) for p in parts) if len(parts) == 2 else (float("nan"),) * 2
    except ValueError:
        x = y = float("nan")
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ValidationError("focus must be two numbers from -1 to 1: x,y", field="focus")
    return x, y


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > DESCRIPTION_LIMIT:
        raise ValidationError(
            f"the description is longer than {DESCRIPTION_LIMIT} characters", field="description"
        )
    return value or None


async def save_upload(
    db: Executor,
    settings: Settings,
    actor_id: int,
    data: bytes,
    *,
    description: str | None = None,
    focus: str | None = None,
) -> MediaAttachment:
    """Check and store an uploaded image, video or audio file for ``actor_id``."""
    text = _description(description)
    x, y = parse_focus(focus) or (0.0, 0.0)
    media_id = await next_id(db)
    name, info = await store_media_file(settings, media_id, data)
    return await media_db.insert_media(
        db,
        id=media_id,
        actor_id=actor_id,
        kind=info.kind,
        file_name=name,
        content_type=info.content_type,
        file_size=len(data),
        width=info.width,
        height=info.height,
        description=text,
        focus_x=x,
        focus_y=y,
    )


async def _own(db: Executor, actor_id: int, media_id: int) -> MediaAttachment:
    media = await media_db.get_media_by_id(db, media_id)
    if media is None or media.actor_id != actor_id:
        raise NotFound("Record not found")
    return media


async def uploaded_media(db: Executor, actor_id: int, media_id: int) -> MediaAttachment:
    """An upload of ``actor_id`` that no status uses yet; ``NotFound`` for anyone else's
    and, as in Mastodon, for attached ones (they are seen through their status)."""
    media = await _own(db, actor_id, media_id)
    if media.status_id is not None:
        raise NotFound("Record not found")
    return media


async def update_media(
    db: Executor,
    actor_id: int,
    media_id: int,
    *,
    description: str | None,
    focus: str | None,
) -> MediaAttachment:
    """Change the description and focal point (only while it is not attached, as Mastodon
    allows; later changes go through editing the status)."""
    media = await _own(db, actor_id, media_id)
    if media.status_id is not None:
        raise NotFound("Record not found")
    point = parse_focus(focus)
    updated = await media_db.update_media(
        db,
        media.id,
        description=media.description if description is None else _description(description),
        focus_x=media.focus_x if point is None else point[0],
        focus_y=media.focus_y if point is None else point[1],
    )
    assert updated is not None
    return updated


async def delete_media(
    db: Executor, settings: Settings, actor_id: int, media_id: int
) -> MediaAttachment:
    """Delete an upload and its file (returning what it was); ``ValidationError`` while a
    status uses it."""
    media = await _own(db, actor_id, media_id)
    if media.status_id is not None:
        raise ValidationError("Media attachment is currently used by a status", field="id")
    name = await media_db.delete_unattached_media(db, actor_id, media.id)
    if name is not None and FILE_NAME_RE.match(name):
        await asyncio.to_thread((settings.media_dir / name).unlink, missing_ok=True)
    return media


def attachment_json(settings: Settings, media: MediaAttachment) -> dict[str, Any]:
    """How a status stores an attachment (``statuses.attachments``): the shape
    ``fedinet.ap.notes`` reads and writes, plus the media id and focal point."""
    return {
        "id": str(media.id),
        "type": "Document",
        "media_type": media.content_type,
        "url": media_url(settings, media.file_name),
        "description": media.description,
        "width": media.width,
        "height": media.height,
        "blurhash": None,
        "focus": [media.focus_x, media.focus_y],
    }


async def media_for_status(
    db: Executor, actor_id: int, media_ids: Sequence[str], *, status_id: int | None = None
) -> list[MediaAttachment]:
    """The attachments named by ``media_ids[]`` in that order: each must be the author's
    and not used by another status than ``status_id`` (the one being edited, if any); at
    most :data:`MAX_ATTACHMENTS`. Call inside the transaction that writes the status (the
    rows are locked)."""
    if len(media_ids) > MAX_ATTACHMENTS:
        raise ValidationError(
            f"a status can have at most {MAX_ATTACHMENTS} attachments", field="media_ids"
        )
    wanted: list[int] = []
    for raw in media_ids:
        if not raw.isdigit() or int(raw) >= 2**63:
            raise ValidationError(f"{raw!r} is not a media id", field="media_ids")
        if int(raw) not in wanted:
            wanted.append(int(raw))
    rows = (
        await media_db.list_unattached_media(db, actor_id, wanted)
        if status_id is None
        else await media_db.list_media_for_edit(db, actor_id, status_id, wanted)
    )
    found = {m.id: m for m in rows}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationError(
            f"media {missing[0]} does not exist, is not yours or is already attached",
            field="media_ids",
        )
    return [found[i] for i in wanted]
