"""Video and audio recognised from their bytes: containers built here, box by box and
element by element, as the formats' specifications lay them out (ISO/IEC 14496-12 for
MP4 and QuickTime, the Matroska/WebM EBML layout)."""

from __future__ import annotations

import struct

import pytest

from fedinet.errors import ValidationError
from fedinet.services.media import sniff_media
from fedinet.services.media_probe import MediaInfo, probe_video_or_audio


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def large_box(kind: bytes, body: bytes) -> bytes:
    """A box with a 64-bit size (``size == 1``), as big ``mdat`` boxes have."""
    return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(body)) + body


def mvhd(timescale: int, duration: int, *, version: int = 0) -> bytes:
    if version == 1:
        body = bytes([1, 0, 0, 0]) + bytes(16) + struct.pack(">IQ", timescale, duration)
    else:
        body = bytes(4) + bytes(8) + struct.pack(">II", timescale, duration)
    return box(b"mvhd", body + bytes(80))


def tkhd(width: int, height: int, *, version: int = 0) -> bytes:
    before = 88 if version == 1 else 76
    head = bytes([version, 0, 0, 7]) + bytes(before - 4)
    return box(b"tkhd", head + struct.pack(">II", width << 16, height << 16))


def mp4(
    width: int = 640,
    height: int = 360,
    *,
    brand: bytes = b"isom",
    seconds: int = 5,
    version: int = 0,
    moov_last: bool = False,
) -> bytes:
    """An ISO media file: ``ftyp``, a ``moov`` with a sound track and a picture track
    (none when ``width`` is 0), and an ``mdat``."""
    tracks = box(b"trak", tkhd(0, 0, version=version))  # the sound track has no size
    if width:
        tracks += box(b"trak", tkhd(width, height, version=version))
    moov = box(b"moov", mvhd(1000, seconds * 1000, version=version) + tracks)
    mdat = large_box(b"mdat", bytes(64))
    ftyp = box(b"ftyp", brand + struct.pack(">I", 512) + brand + b"mp41")
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def ebml(element_id: int, body: bytes, *, unknown_size: bool = False) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    size = (
        b"\x01\xff\xff\xff\xff\xff\xff\xff"
        if unknown_size
        else b"\x01" + len(body).to_bytes(7, "big")
    )
    return id_bytes + size + body


def webm(
    width: int = 1280, height: int = 720, *, doc_type: bytes = b"webm", sound_first: bool = False
) -> bytes:
    """An EBML header and a Segment of unknown size (as live recordings write it) with a
    track entry (a Video element when ``width``), after a sound track's entry when
    ``sound_first``, and a first cluster."""
    header = ebml(0x1A45DFA3, ebml(0x4286, b"\x01") + ebml(0x4282, doc_type))
    video = b""
    if width:
        video = ebml(
            0xE0, ebml(0xB0, width.to_bytes(2, "big")) + ebml(0xBA, height.to_bytes(2, "big"))
        )
    entry = ebml(0xAE, ebml(0xD7, b"\x01") + video)
    if sound_first:
        entry = ebml(0xAE, ebml(0xD7, b"\x02")) + entry
    segment = ebml(0x1654AE6B, entry) + ebml(0x1F43B675, bytes(32))
    return header + ebml(0x18538067, segment, unknown_size=True)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (mp4(), MediaInfo("video", "video/mp4", 640, 360)),
        (mp4(1920, 1080, version=1), MediaInfo("video", "video/mp4", 1920, 1080)),
        (mp4(moov_last=True), MediaInfo("video", "video/mp4", 640, 360)),
        (mp4(brand=b"qt  "), MediaInfo("video", "video/quicktime", 640, 360)),
        (mp4(brand=b"M4A "), MediaInfo("audio", "audio/mp4")),
        (mp4(0, 0), MediaInfo("audio", "audio/mp4")),  # no picture track
        (webm(), MediaInfo("video", "video/webm", 1280, 720)),
        (webm(sound_first=True), MediaInfo("video", "video/webm", 1280, 720)),
        (webm(0, 0), MediaInfo("audio", "audio/webm")),
        (b"ID3\x04\x00\x00" + bytes(40), MediaInfo("audio", "audio/mpeg")),
        (b"\xff\xfb\x90\x64" + bytes(40), MediaInfo("audio", "audio/mpeg")),  # MPEG-1 layer III
        (b"OggS\x00\x02" + bytes(40), MediaInfo("audio", "audio/ogg")),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40), MediaInfo("audio", "audio/wav")),
        (b"fLaC\x00\x00\x00\x22" + bytes(40), MediaInfo("audio", "audio/flac")),
    ],
)
def test_probe_reads_kind_type_and_size(data: bytes, expected: MediaInfo) -> None:
    assert probe_video_or_audio(data) == expected
    assert sniff_media(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        webm(doc_type=b"matroska"),  # Matroska in general is not WebM
        b"\xff\xff\xff\xff" + bytes(40),  # frame sync with a "bad" bitrate: not MPEG audio
        b"\xff\xea\x90\x64" + bytes(40),  # reserved MPEG version
        b"RIFF\x24\x00\x00\x00AVI LIST" + bytes(40),
        b"<html>" + bytes(40),
        b"",
    ],
)
def test_probe_leaves_other_files_alone(data: bytes) -> None:
    assert probe_video_or_audio(data) is None


def test_an_mp4_without_its_movie_header_is_refused() -> None:
    cut = box(b"ftyp", b"isom\x00\x00\x02\x00isom") + large_box(b"mdat", bytes(64))
    with pytest.raises(ValueError, match="moov"):
        probe_video_or_audio(cut)
    with pytest.raises(ValidationError, match="cannot be read") as refused:
        sniff_media(cut)
    assert refused.value.field == "file"


def test_empty_and_short_headers_are_read_as_missing() -> None:
    """Boxes that end where their fields should begin (the last box of a file, say)."""
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isom")
    empty = ftyp + box(b"moov", box(b"trak", box(b"tkhd", b"")) + box(b"mvhd", b""))
    assert probe_video_or_audio(empty) == MediaInfo("audio", "audio/mp4")
    track_last = ftyp + box(b"moov", box(b"mvhd", bytes(10)) + box(b"trak", box(b"tkhd", b"")))
    assert probe_video_or_audio(track_last) == MediaInfo("audio", "audio/mp4")
    short = ftyp + box(b"moov", box(b"trak", box(b"tkhd", bytes(20))) + box(b"mvhd", bytes(10)))
    assert probe_video_or_audio(short) == MediaInfo("audio", "audio/mp4")
    cut_webm = webm()[:60]  # the Video element is cut off
    assert probe_video_or_audio(cut_webm) == MediaInfo("audio", "audio/webm")


def test_sniff_media_refuses_what_is_neither() -> None:
    with pytest.raises(ValidationError, match="video") as refused:
        sniff_media(b"<html><script>alert(1)</script></html>")
    assert "not a supported image" in refused.value.message
    with pytest.raises(ValidationError, match="more than 8294400 pixels"):
        sniff_media(mp4(7680, 4320))  # 8K is over Mastodon's video matrix limit
    assert sniff_media(webm(3840, 2160)).width == 3840  # 4K is not
