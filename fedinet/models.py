"""Frozen dataclasses for the rows fedinet works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Activity", "Actor", "ActorKey", "Follow", "Notification", "Status", "User"]


@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    uri: str
    is_local: bool
    actor_type: str
    username: str
    domain: str
    display_name: str = ""
    summary: str = ""
    url: str | None = None
    inbox_uri: str | None = None
    outbox_uri: str | None = None
    shared_inbox_uri: str | None = None
    followers_uri: str | None = None
    following_uri: str | None = None
    featured_uri: str | None = None
    manually_approves_followers: bool = True
    discoverable: bool = True
    indexable: bool = False
    avatar_url: str | None = None
    header_url: str | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    published: datetime | None = None
    fetched_at: datetime | None = None
    suspended_at: datetime | None = None
    deleted_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    motives: list[str] = field(default_factory=list)
    """Motives shown publicly (vocabulary keys); a local member's private ones are not here."""
    interests: list[str] = field(default_factory=list)
    region: str | None = None
    follow_note_policy: str | None = None
    """``strict``, ``standard`` or ``open``; None when the server does not say."""
    hide_collections: bool = False
    """Whether the followers and following lists are hidden (their counts stay public)."""

    @property
    def acct(self) -> str:
        """``user@domain``."""
        return f"{self.username}@{self.domain}"

    @property
    def is_gone(self) -> bool:
        return self.suspended_at is not None or self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class ActorKey:
    key_id: str
    actor_id: int
    kind: str
    public_key_pem: str
    private_key_pem: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    actor_id: int
    email: str
    password_hash: str
    is_admin: bool
    approved: bool
    created_at: datetime
    locale: str | None = None
    last_login_at: datetime | None = None
    private_motives: list[str] = field(default_factory=list)
    follow_note_policy: str = "strict"
    registration_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    uri: str
    follower_id: int
    followee_id: int
    state: str
    """``pending`` or ``accepted``."""
    created_at: datetime
    accepted_at: datetime | None = None
    note: str | None = None
    motive: str | None = None
    awaiting_since: datetime | None = None
    reminded: bool = False
    connect_link_id: int | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """A post (Note, or Question/Article/Page kept as one), or a boost of one when
    ``reblog_of_id`` is set. Columns of ``statuses`` one to one."""

    id: int
    uri: str
    actor_id: int
    is_local: bool
    visibility: str
    """``public``, ``unlisted``, ``private`` (followers only) or ``direct``."""
    url: str | None = None
    object_type: str = "Note"
    in_reply_to_uri: str | None = None
    in_reply_to_id: int | None = None
    in_reply_to_actor_id: int | None = None
    reblog_of_id: int | None = None
    content: str = ""
    """Sanitized HTML."""
    source_text: str | None = None
    summary: str = ""
    """The content warning; empty for none."""
    sensitive: bool = False
    language: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    published: datetime | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity a local member authored (columns of ``activities``)."""

    id: int
    uri: str
    actor_id: int
    activity_type: str
    object_uri: str | None
    visibility: str
    body: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    recipient_id: int
    notification_type: str
    from_actor_id: int
    status_id: int | None
    created_at: datetime
