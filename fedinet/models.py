"""Frozen dataclasses for the rows fedinet works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Actor", "ActorKey", "User"]


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
