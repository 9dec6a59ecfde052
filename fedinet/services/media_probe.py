"""What a video or audio upload is, read from its own bytes (no media library needed).

Accepted (Mastodon takes the same and transcodes them; fedinet keeps what was sent):

- **ISO base media** (a leading ``ftyp`` box): MP4/M4V (``video/mp4``), QuickTime
  (``video/quicktime``, brand ``qt``), and M4A/M4B or any of them without a picture
  track (``audio/mp4``). The size comes from the first track header (``moov/trak/tkhd``)
  that has one.
- **WebM** (an EBML header whose DocType is ``webm``): ``video/webm``, or ``audio/webm``
  without a video track; the size from ``Segment/Tracks/TrackEntry/Video``. Other
  Matroska files (DocType ``matroska``) are refused.
- **Audio:** MP3 (an ``ID3`` tag or an MPEG audio frame header), Ogg (``OggS``), WAV
  (``RIFF``/``WAVE``) and FLAC (``fLaC``).

Anything else is None here, and :func:`fedinet.services.media.sniff_media` refuses it;
an MP4 or QuickTime file without its movie header is a ``ValueError``. Nothing is
decoded: a file that starts like one of these but is damaged further on is stored as
it is, and the client playing it finds out (Mastodon keeps such originals too).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_VIDEO_PIXELS", "MediaInfo", "probe_video_or_audio"]

MAX_VIDEO_PIXELS: Final = 8_294_400
"""3840 by 2160, Mastodon's ``MAX_VIDEO_MATRIX_LIMIT``."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    kind: str
    """``image``, ``video`` or ``audio`` (Mastodon's MediaAttachment ``type``)."""
    content_type: str
    width: int | None = None
    height: int | None = None


# --------------------------------------------------------------------------- ISO BMFF


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, content start, content end) of the boxes in ``data[start:end]``; stops at
    the first box whose size does not fit."""
    found = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                break
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at  # to the end of the enclosing box
        if size < header or at + size > end:
            break
        found.append((kind, at + header, at + size))
        at += size
    return found


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, body_start, body_end in _boxes(data, start, end):
        if found == kind:
            return body_start, body_end
    return None


def _track_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """Width and height of the first track of ``moov`` that has a picture."""
    for kind, trak_start, trak_end in _boxes(data, start, end):
        if kind != b"trak":
            continue
        tkhd = _child(data, trak_start, trak_end, b"tkhd")
        if tkhd is None:
            continue
        body_start, body_end = tkhd
        if body_start >= body_end:
            continue
        offset = body_start + (88 if data[body_start] == 1 else 76)
        if offset + 8 > body_end:
            continue
        width, height = struct.unpack_from(">II", data, offset)  # 16.16 fixed point
        if width >> 16 and height >> 16:
            return width >> 16, height >> 16
    return None


def _iso_media(data: bytes) -> MediaInfo:
    brand = data[8:12]
    moov = _child(data, 0, len(data), b"moov")
    if moov is None:
        raise ValueError("the file has no movie header (moov box), or it is cut short")
    size = _track_size(data, *moov)
    if brand in (b"M4A ", b"M4B ") or size is None:
        return MediaInfo("audio", "audio/mp4")
    content_type = "video/quicktime" if brand == b"qt  " else "video/mp4"
    return MediaInfo("video", content_type, size[0], size[1])


# --------------------------------------------------------------------------- EBML (WebM)

_EBML: Final = 0x1A45DFA3
_DOC_TYPE: Final = 0x4282
_SEGMENT: Final = 0x18538067
_TRACKS: Final = 0x1654AE6B
_TRACK_ENTRY: Final = 0xAE
_VIDEO: Final = 0xE0
_PIXEL_WIDTH: Final = 0xB0
_PIXEL_HEIGHT: Final = 0xBA


def _vint(data: bytes, at: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of the variable-length integer at ``at``."""
    if at >= len(data) or data[at] == 0:
        return None
    first = data[at]
    length = 1
    while not first & (0x80 >> (length - 1)):
        length += 1
    if at + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[at + 1 : at + length]:
        value = (value << 8) | byte
    return value, length


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(id, content start, content end) of the EBML elements in ``data[start:end]``. An
    element that claims to run past ``end`` ends there: a file cut short, or an element
    of unknown size (all ones, as a live recording writes its Segment)."""
    found = []
    at = start
    while at < end:
        element = _vint(data, at, keep_marker=True)
        if element is None:
            break
        size = _vint(data, at + element[1], keep_marker=False)
        if size is None:
            break
        body = at + element[1] + size[1]
        body_end = min(body + size[0], end)
        found.append((element[0], body, body_end))
        if body_end <= at:
            break
        at = body_end
    return found


def _uint(data: bytes, start: int, end: int) -> int:
    return int.from_bytes(data[start:end], "big") if 0 < end - start <= 8 else 0


def _each(data: bytes, start: int, end: int, path: tuple[int, ...]) -> Iterator[tuple[int, int]]:
    """The content ranges of the elements reached from ``data[start:end]`` by following
    ``path``, a series of element ids, downwards; in file order."""
    if not path:
        yield start, end
        return
    for element, child_start, child_end in _elements(data, start, end):
        if element == path[0]:
            yield from _each(data, child_start, child_end, path[1:])


def _first_uint(data: bytes, start: int, end: int, element: int) -> int:
    return next((_uint(data, *found) for found in _each(data, start, end, (element,))), 0)


def _webm(data: bytes) -> MediaInfo | None:
    header = next(_each(data, 0, len(data), (_EBML,)), None)
    if header is None:
        return None
    doc_type = next((data[s:e] for s, e in _each(data, *header, (_DOC_TYPE,))), b"")
    if doc_type.rstrip(b"\0") != b"webm":
        return None
    for video in _each(data, 0, len(data), (_SEGMENT, _TRACKS, _TRACK_ENTRY, _VIDEO)):
        width = _first_uint(data, *video, _PIXEL_WIDTH)
        height = _first_uint(data, *video, _PIXEL_HEIGHT)
        if width and height:
            return MediaInfo("video", "video/webm", width, height)
    return MediaInfo("audio", "audio/webm")


# --------------------------------------------------------------------------- audio


def _mpeg_audio_frame(data: bytes) -> bool:
    """An MPEG audio frame header: sync bits, a known version, layer and bitrate."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer = (data[1] >> 3) & 0b11, (data[1] >> 1) & 0b11
    bitrate, rate = data[2] >> 4, (data[2] >> 2) & 0b11
    return version != 0b01 and layer != 0 and bitrate not in (0, 0b1111) and rate != 0b11


def probe_video_or_audio(data: bytes) -> MediaInfo | None:
    """What ``data`` is, if it is one of the video or audio formats above; ValueError
    (with the reason) for an MP4 or QuickTime file that cannot be read."""
    if data[4:8] == b"ftyp":
        return _iso_media(data)
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return _webm(data)
    if data[:3] == b"ID3" or _mpeg_audio_frame(data):
        return MediaInfo("audio", "audio/mpeg")
    if data[:4] == b"OggS":
        return MediaInfo("audio", "audio/ogg")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return MediaInfo("audio", "audio/wav")
    if data[:4] == b"fLaC":
        return MediaInfo("audio", "audio/flac")
    return None
