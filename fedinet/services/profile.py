"""A member's profile: who they are, why they are here, how they read follow requests.

Changes federate as an Update of the actor to the member's followers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedinet.ap.activities import update_actor_activity
from fedinet.ap.actors import actor_to_ap
from fedinet.ap.sanitize import normalize_hashtag, text_to_html
from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import users as users_db
from fedinet.db.types import Connection
from fedinet.errors import ValidationError
from fedinet.models import Actor, User
from fedinet.services.media import media_url, store_image_file
from fedinet.services.outbox import audience_inboxes, publish
from fedinet.vocabulary import MOTIVE_KEYS, is_sensitive

__all__ = [
    "MAX_INTERESTS",
    "MAX_REGION",
    "NOTE_POLICIES",
    "ProfileChange",
    "normalize_interests",
    "update_profile",
]

MAX_INTERESTS = 30
MAX_REGION = 100
MAX_DISPLAY_NAME = 30
MAX_BIO = 500
NOTE_POLICIES = ("strict", "standard", "open")


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What a member asks to change; None leaves a value as it is."""

    display_name: str | None = None
    bio: str | None = None
    """Plain text, as typed."""
    locked: bool | None = None
    discoverable: bool | None = None
    motives: Sequence[str] | None = None
    """Every motive chosen (vocabulary keys)."""
    private_motives: Sequence[str] | None = None
    """Which of them stay private; None: the sensitive ones (spiritual, life-partner,
    support) are private, the others public."""
    interests: Sequence[str] | None = None
    region: str | None = None
    """Coarse and self-declared; an empty string removes it."""
    follow_note_policy: str | None = None
    hide_collections: bool | None = None
    """Hide the followers and following lists (counts stay public)."""
    avatar: bytes | None = None
    """A new avatar image (PNG, JPEG, GIF or WebP, checked as media uploads are)."""
    header: bytes | None = None
    """A new header image."""


def normalize_interests(values: Sequence[str]) -> list[str]:
    """Interest tags normalized like hashtags (case-folded, accents kept, ``#`` stripped),
    deduplicated; more than :data:`MAX_INTERESTS` is refused."""
    tags: list[str] = []
    for value in values:
        tag = normalize_hashtag(value)
        if not tag:
            raise ValidationError(
                f"{value!r} is not an interest tag: use letters, digits or _",
                field="interests",
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_INTERESTS:
        raise ValidationError(f"at most {MAX_INTERESTS} interests", field="interests")
    return tags


def _motives(change: ProfileChange, actor: Actor, user: User) -> tuple[list[str], list[str]]:
    """(public, private) motives after the change."""
    if change.motives is None and change.private_motives is None:
        return list(actor.motives), list(user.private_motives)
    chosen = (
        list(change.motives)
        if change.motives is not None
        else [*actor.motives, *user.private_motives]
    )
    unknown = [m for m in chosen if m not in MOTIVE_KEYS]
    if unknown:
        raise ValidationError(
            f"unknown motive {unknown[0]!r}; choose from {', '.join(MOTIVE_KEYS)}",
            field="motives",
        )
    if change.private_motives is not None:
        private = set(change.private_motives)
        stray = private - set(chosen)
        if stray:
            raise ValidationError(
                f"{sorted(stray)[0]!r} is private but not among your motives",
                field="private_motives",
            )
    else:
        private = {m for m in chosen if is_sensitive(m)}
    ordered = [key for key in MOTIVE_KEYS if key in chosen]
    return [m for m in ordered if m not in private], [m for m in ordered if m in private]


async def update_profile(
    conn: Connection, settings: Settings, actor: Actor, user: User, change: ProfileChange
) -> tuple[Actor, User]:
    if change.display_name is not None and len(change.display_name) > MAX_DISPLAY_NAME:
        raise ValidationError(
            f"the display name is longer than {MAX_DISPLAY_NAME} characters",
            field="display_name",
        )
    if change.bio is not None and len(change.bio) > MAX_BIO:
        raise ValidationError(f"the bio is longer than {MAX_BIO} characters", field="note")
    if change.follow_note_policy is not None and change.follow_note_policy not in NOTE_POLICIES:
        raise ValidationError(
            f"follow_note_policy must be one of {', '.join(NOTE_POLICIES)}",
            field="follow_note_policy",
        )
    region = actor.region
    if change.region is not None:
        region = " ".join(change.region.split()) or None
        if region is not None and len(region) > MAX_REGION:
            raise ValidationError(
                f"the region is longer than {MAX_REGION} characters; a city, "
                "a state or a country is enough",
                field="region",
            )
    public, private = _motives(change, actor, user)
    interests = (
        normalize_interests(change.interests) if change.interests is not None else actor.interests
    )
    policy = change.follow_note_policy or user.follow_note_policy
    images: dict[str, str] = {}
    for kind, data in (("avatar", change.avatar), ("header", change.header)):
        if data is not None:
            try:
                name, _ = await store_image_file(settings, actor.id, data)
            except ValidationError as exc:
                raise ValidationError(exc.message, field=kind, reason=exc.reason) from None
            images[kind] = media_url(settings, name)
    async with conn.transaction():
        updated = await actors_db.update_local_profile(
            conn,
            actor.id,
            display_name=(
                change.display_name if change.display_name is not None else actor.display_name
            ),
            summary=(
                text_to_html(change.bio, base_url=settings.url)
                if change.bio is not None
                else actor.summary
            ),
            manually_approves_followers=(
                change.locked if change.locked is not None else actor.manually_approves_followers
            ),
            discoverable=(
                change.discoverable if change.discoverable is not None else actor.discoverable
            ),
            fields=[{"name": str(f["name"]), "value": str(f["value"])} for f in actor.fields],
            motives=public,
            interests=interests,
            region=region,
            follow_note_policy=policy,
        )
        assert updated is not None
        if images:
            await actors_db.set_images(
                conn,
                updated.id,
                avatar_url=images.get("avatar", updated.avatar_url),
                header_url=images.get("header", updated.header_url),
            )
        if change.hide_collections is not None:
            await actors_db.set_hide_collections(conn, updated.id, change.hide_collections)
        if images or change.hide_collections is not None:
            refreshed = await actors_db.get_actor_by_id(conn, updated.id)
            assert refreshed is not None
            updated = refreshed
        new_user = await users_db.set_note_settings(
            conn, user.id, private_motives=private, follow_note_policy=policy
        )
        assert new_user is not None
        keys = await actors_db.list_keys_for_actor(conn, updated.id)
        document = actor_to_ap(updated, keys, base_url=settings.url)
        document.pop("@context", None)
        await publish(
            conn,
            settings,
            updated,
            lambda activity_id: update_actor_activity(activity_id, updated.uri, document),
            object_uri=updated.uri,
            inboxes=await audience_inboxes(conn, updated, "public"),
        )
    return updated, new_user
