"""Content negotiation between ActivityPub JSON and HTML (the same URLs serve both)."""

from __future__ import annotations

from typing import Final

__all__ = ["wants_activity_json"]

_AP_TYPES: Final = ("application/activity+json", "application/ld+json")
_HTML_TYPES: Final = ("text/html", "application/xhtml+xml")


def wants_activity_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for ActivityPub JSON rather than HTML.

    ``application/activity+json`` and ``application/ld+json`` (any profile) count as
    ActivityPub. It wins unless HTML is asked for explicitly with a higher quality, or with
    the same quality and listed first. Wildcards alone (``*/*``) and no header mean HTML.
    """
    if not accept:
        return False
    best: dict[str, tuple[float, int]] = {}  # "ap"/"html" -> (q, -position)
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        group = "ap" if media in _AP_TYPES else "html" if media in _HTML_TYPES else None
        if group is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if q > 0 and (group not in best or (q, -position) > best[group]):
            best[group] = (q, -position)
    if "ap" not in best:
        return False
    return "html" not in best or best["ap"] > best["html"]
