from __future__ import annotations

import pytest

from fedinet.config import Settings
from fedinet.crypto.keys import load_private_key, load_public_key
from fedinet.crypto.passwords import verify_password
from fedinet.db import actors as actors_db
from fedinet.db import users as users_db
from fedinet.errors import Conflict, ValidationError
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member, ensure_instance_actor


async def test_create_member_with_keys(runtime: Runtime, settings: Settings) -> None:
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, settings, username="Alice_1", email="alice@example.org", password="correct horse"
        )
    actor, user = created.actor, created.user
    assert created.generated_password is None
    assert actor.uri == "https://fedinet.test/users/Alice_1"
    assert actor.acct == "Alice_1@fedinet.test"
    assert actor.inbox_uri == actor.uri + "/inbox"
    assert actor.shared_inbox_uri == "https://fedinet.test/inbox"
    assert actor.is_local and actor.manually_approves_followers
    assert user.email == "alice@example.org" and not user.is_admin
    assert verify_password("correct horse", user.password_hash)
    assert "correct horse" not in user.password_hash

    keys = {k.kind: k for k in await actors_db.list_keys_for_actor(runtime.pool, actor.id)}
    assert set(keys) == {"rsa", "ed25519"}
    assert keys["rsa"].key_id == actor.uri + "#main-key"
    rsa_private = load_private_key(keys["rsa"].private_key_pem or "")
    assert rsa_private.key_size == 2048  # type: ignore[union-attr]
    load_public_key(keys["ed25519"].public_key_pem)

    # case-insensitive lookups
    found = await users_db.get_user_by_username(runtime.pool, "alice_1")
    assert found is not None and found.id == user.id


async def test_generated_password_is_returned_once(runtime: Runtime, settings: Settings) -> None:
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, settings, username="bob", email="bob@example.org", is_admin=True
        )
    assert created.generated_password is not None
    assert len(created.generated_password) >= 16
    assert created.user.is_admin
    assert verify_password(created.generated_password, created.user.password_hash)


@pytest.mark.parametrize(
    ("username", "email", "password", "field"),
    [
        ("", "a@example.org", "long enough", "username"),
        ("has space", "a@example.org", "long enough", "username"),
        ("dash-name", "a@example.org", "long enough", "username"),
        ("dotted.name", "a@example.org", "long enough", "username"),
        ("émile", "a@example.org", "long enough", "username"),
        ("x" * 31, "a@example.org", "long enough", "username"),
        ("fine", "not-an-email", "long enough", "email"),
        ("fine", "a@b", "long enough", "email"),
        ("fine", "a@example.org", "short", "password"),
    ],
)
async def test_bad_input_is_refused(
    runtime: Runtime, settings: Settings, username: str, email: str, password: str, field: str
) -> None:
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ValidationError) as info:
            await create_member(conn, settings, username=username, email=email, password=password)
    assert info.value.field == field
    assert await actors_db.count_local_members(runtime.pool) == 0


async def test_duplicates_are_refused(runtime: Runtime, settings: Settings) -> None:
    async with runtime.pool.acquire() as conn:
        await create_member(conn, settings, username="carol", email="c@example.org")
        with pytest.raises(Conflict, match="username 'CAROL' is already taken"):
            await create_member(conn, settings, username="CAROL", email="other@example.org")
        with pytest.raises(Conflict, match=r"email 'C@example\.org' is already in use"):
            await create_member(conn, settings, username="carol2", email="C@example.org")
    assert await actors_db.count_local_members(runtime.pool) == 1


async def test_instance_actor_is_created_once(runtime: Runtime, settings: Settings) -> None:
    assert runtime.instance_actor.uri == "https://fedinet.test/actor"
    assert runtime.instance_actor.actor_type == "Application"
    async with runtime.pool.acquire() as conn:
        again = await ensure_instance_actor(conn, settings)
    assert again.id == runtime.instance_actor.id
    keys = await actors_db.list_keys_for_actor(runtime.pool, again.id)
    assert len(keys) == 2
