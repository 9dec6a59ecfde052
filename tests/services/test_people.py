"""Which attachments a page may show, and which it only links (no database)."""

from __future__ import annotations

from typing import Any

from fedinet.models import Status
from fedinet.services.people import ShownMedia, shown_media

LOCAL = "https://fedinet.example/system/media/"


def _status(*attachments: dict[str, Any]) -> Status:
    return Status(
        id=1,
        uri="https://x.example/1",
        actor_id=1,
        is_local=False,
        visibility="public",
        attachments=list(attachments),
    )


def test_shown_media_sorts_local_from_remote_and_drops_other_schemes() -> None:
    status = _status(
        {
            "media_type": "video/mp4",
            "url": LOCAL + "1-a.mp4",
            "width": 640,
            "height": 360,
            "description": "a clip",
        },
        {"media_type": "image/jpeg", "url": "https://x.example/heron.jpg", "width": 0},
        {"media_type": "audio/ogg", "url": "HTTP://x.example/song.ogg"},
        {"media_type": "application/pdf", "url": "https://x.example/menu.pdf"},
        {"media_type": "image/png", "url": "javascript:alert(1)"},
        {"media_type": "image/png", "url": "data:image/png;base64,AAAA"},
        {"media_type": "image/png"},
        {"media_type": "image/png", "url": ["https://x.example/list.png"]},
        {"media_type": "image/png", "url": "https://fedinet.example.evil/system/media/1.png"},
    )
    assert shown_media(status, LOCAL) == (
        ShownMedia("video", LOCAL + "1-a.mp4", "a clip", 640, 360, local=True),
        ShownMedia("image", "https://x.example/heron.jpg", None, None, None, local=False),
        ShownMedia("audio", "HTTP://x.example/song.ogg", None, None, None, local=False),
        ShownMedia("file", "https://x.example/menu.pdf", None, None, None, local=False),
        ShownMedia(
            "image",
            "https://fedinet.example.evil/system/media/1.png",
            None,
            None,
            None,
            local=False,
        ),
    )
    assert shown_media(status, LOCAL)[0].host == "fedinet.example"
    # Without a prefix nothing counts as local.
    assert not any(m.local for m in shown_media(status, ""))
