"""The instance as Mastodon clients see it: ``/api/v1/instance``, ``/api/v2/instance``,
``/api/v1/instance/peers``, ``/api/v1/instance/activity`` and ``/api/v1/instance/rules``.

Public (no token needed), as on Mastodon outside limited-federation mode. Read from
``instance_settings``: ``title``, ``short_description``, ``description``,
``contact_email``, ``languages`` (list), ``registration_mode`` (``open``, ``approved``,
``closed``/``none``) and ``rules`` (a list of strings or of ``{"text", "hint"}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet import __version__
from fedinet.config import Settings
from fedinet.db import counts as counts_db
from fedinet.db import instance as instance_db
from fedinet.db.types import Executor
from fedinet.runtime import Runtime
from fedinet.services.discovery import SOFTWARE_REPOSITORY, open_registrations
from fedinet.services.media import EXTENSIONS
from fedinet.web.api.entities import load_account

__all__ = [
    "API_VERSIONS",
    "LIMITS",
    "MASTODON_VERSION",
    "activity",
    "instance_v1",
    "instance_v2",
    "peers",
    "routes",
    "rules",
    "rules_from_setting",
]

MASTODON_VERSION: Final = f"4.3.0 (compatible; fedinet {__version__})"
API_VERSIONS: Final = {"mastodon": 2}
THUMBNAIL_PATH: Final = "/instance/thumbnail.png"
# What the media endpoints accept (fedinet.services.media sniffs each from the bytes).
_MIME_TYPES: Final = list(EXTENSIONS)
LIMITS: Final[dict[str, dict[str, Any]]] = {
    "accounts": {
        "max_featured_tags": 10,
        "max_pinned_statuses": 5,
        "max_display_name_length": 30,
        "max_note_length": 500,
        "max_profile_fields": 4,
        "profile_field_name_limit": 255,
        "profile_field_value_limit": 255,
    },
    "statuses": {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    },
    "media_attachments": {
        "supported_mime_types": _MIME_TYPES,
        "description_limit": 1500,
        "image_size_limit": 16 * 1024 * 1024,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": 99 * 1024 * 1024,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8_294_400,
    },
    "polls": {
        "max_options": 4,
        "max_characters_per_option": 50,
        "min_expiration": 300,
        "max_expiration": 2_629_746,
    },
}
"""Limits clients are told about. The code that enforces them should read them from here
(or this should move to a shared module) so that the two cannot drift apart."""


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def rules_from_setting(value: Any) -> list[dict[str, str]]:
    """Rule entities from the ``rules`` setting (ids are 1-based positions)."""
    if not isinstance(value, list):
        return []
    found: list[dict[str, str]] = []
    for item in value:
        if isinstance(item, str):
            text, hint = item, ""
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str):
            text, hint = item["text"], str(item.get("hint") or "")
        else:
            continue
        if text.strip():
            found.append({"id": str(len(found) + 1), "text": text, "hint": hint})
    return found


async def _setting_str(db: Executor, key: str, default: str = "") -> str:
    value = await instance_db.get_instance_setting(db, key)
    return value if isinstance(value, str) else default


async def _common(db: Executor, settings: Settings) -> dict[str, Any]:
    mode = await instance_db.get_instance_setting(db, "registration_mode")
    languages = await instance_db.get_instance_setting(db, "languages")
    contact = await counts_db.get_contact_actor(db)
    return {
        "title": await _setting_str(db, "title", settings.domain),
        "short_description": await _setting_str(db, "short_description"),
        "description": await _setting_str(db, "description"),
        "email": await _setting_str(db, "contact_email"),
        "languages": (
            [x for x in languages if isinstance(x, str)] if isinstance(languages, list) else ["en"]
        ),
        "registrations": open_registrations(mode),
        "approval_required": mode == "approved",
        "rules": rules_from_setting(await instance_db.get_instance_setting(db, "rules")),
        "contact_account": (None if contact is None else await load_account(db, settings, contact)),
    }


def _media_limits(settings: Settings) -> dict[str, Any]:
    """The media limits, with the upload size this instance is configured for."""
    return {
        **LIMITS["media_attachments"],
        "image_size_limit": settings.media_max_bytes,
        "video_size_limit": settings.media_max_bytes,  # one limit for every upload
    }


def _streaming_url(settings: Settings) -> str:
    return ("wss://" if settings.scheme == "https" else "ws://") + settings.domain


async def instance_v1(request: Request) -> Response:
    """``GET /api/v1/instance`` (V1Instance)."""
    db, settings = _runtime(request).pool, _settings(request)
    common = await _common(db, settings)
    users = await instance_db.count_users(db)
    document = {
        "uri": settings.domain,
        "title": common["title"],
        "short_description": common["short_description"],
        "description": common["description"] or common["short_description"],
        "email": common["email"],
        "version": MASTODON_VERSION,
        "urls": {"streaming_api": _streaming_url(settings)},
        "stats": {
            "user_count": users.total,
            "status_count": await counts_db.count_local_statuses(db),
            "domain_count": len(await counts_db.list_peer_domains(db)),
        },
        "thumbnail": settings.url + THUMBNAIL_PATH,
        "languages": common["languages"],
        "registrations": common["registrations"],
        "approval_required": common["approval_required"],
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": LIMITS["accounts"]["max_featured_tags"]},
            "statuses": LIMITS["statuses"],
            "media_attachments": {
                k: v for k, v in _media_limits(settings).items() if k != "description_limit"
            },
            "polls": LIMITS["polls"],
        },
        "contact_account": common["contact_account"],
        "rules": common["rules"],
    }
    return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})


async def instance_v2(request: Request) -> Response:
    """``GET /api/v2/instance`` (Instance)."""
    db, settings = _runtime(request).pool, _settings(request)
    common = await _common(db, settings)
    users = await instance_db.count_users(db)
    registrations_open = common["registrations"]
    document = {
        "domain": settings.domain,
        "title": common["title"],
        "version": MASTODON_VERSION,
        "source_url": SOFTWARE_REPOSITORY or "",
        "description": common["short_description"] or common["description"],
        "usage": {"users": {"active_month": users.active_month}},
        "thumbnail": {"url": settings.url + THUMBNAIL_PATH},
        "icon": [],
        "languages": common["languages"],
        "configuration": {
            "urls": {
                "streaming": _streaming_url(settings),
                "status": None,
                "about": None,
                "privacy_policy": None,
                "terms_of_service": None,
            },
            "vapid": {"public_key": ""},
            **LIMITS,
            "media_attachments": _media_limits(settings),
            "translation": {"enabled": False},
            "limited_federation": False,
        },
        "registrations": {
            "enabled": registrations_open,
            "approval_required": common["approval_required"],
            "reason_required": False,
            "message": None if registrations_open else "Registrations are closed.",
            "min_age": None,
            "url": None,
        },
        "api_versions": dict(API_VERSIONS),
        "contact": {"email": common["email"], "account": common["contact_account"]},
        "rules": common["rules"],
    }
    return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})


async def peers(request: Request) -> Response:
    """``GET /api/v1/instance/peers``: domains of the remote actors fedinet knows."""
    domains = await counts_db.list_peer_domains(_runtime(request).pool)
    return JSONResponse(domains, headers={"Access-Control-Allow-Origin": "*"})


async def activity(request: Request) -> Response:
    """``GET /api/v1/instance/activity``: twelve weeks, newest first, values as strings."""
    weeks = await counts_db.weekly_activity(_runtime(request).pool)
    return JSONResponse(
        [
            {
                "week": str(int(week.week_start.timestamp())),
                "statuses": str(week.statuses),
                "logins": str(week.logins),
                "registrations": str(week.registrations),
            }
            for week in weeks
        ],
        headers={"Access-Control-Allow-Origin": "*"},
    )


async def rules(request: Request) -> Response:
    """``GET /api/v1/instance/rules``."""
    value = await instance_db.get_instance_setting(_runtime(request).pool, "rules")
    return JSONResponse(rules_from_setting(value), headers={"Access-Control-Allow-Origin": "*"})


routes: list[BaseRoute] = [
    Route("/api/v1/instance", instance_v1, methods=["GET", "HEAD"]),
    Route("/api/v2/instance", instance_v2, methods=["GET", "HEAD"]),
    Route("/api/v1/instance/peers", peers, methods=["GET", "HEAD"]),
    Route("/api/v1/instance/activity", activity, methods=["GET", "HEAD"]),
    Route("/api/v1/instance/rules", rules, methods=["GET", "HEAD"]),
]
