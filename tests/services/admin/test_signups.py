"""Sign-ups waiting for approval, and invitations, as the admin services handle them."""

from __future__ import annotations

import pytest

from fedinet.errors import Conflict, NotFound, ValidationError
from fedinet.runtime import Runtime
from fedinet.services import registrations
from fedinet.services.admin import instance, invites, members
from fedinet.services.registrations import SignUp
from fedinet.services.web_sessions import log_in

PASSWORD = "a long enough password"


async def sign_up(runtime: Runtime, name: str, invite_code: str = "") -> None:
    async with runtime.pool.acquire() as conn:
        await registrations.sign_up(
            conn,
            runtime.settings,
            SignUp(
                username=name,
                email=f"{name}@example.org",
                password=PASSWORD,
                invite_code=invite_code,
            ),
        )


async def test_approve_and_reject_waiting_sign_ups(runtime: Runtime) -> None:
    await instance.set_registration_mode(runtime.pool, "approved")
    await sign_up(runtime, "gia")
    await sign_up(runtime, "hal")
    waiting = await members.list_pending_members(runtime.pool)
    assert [m.actor.username for m in waiting] == ["gia", "hal"]
    with pytest.raises(ValidationError, match="waiting for approval"):
        await log_in(runtime.pool, "gia", PASSWORD, ip="127.0.0.1")

    approved = await members.approve_member(runtime.pool, runtime.settings, "gia")
    assert approved.user.approved
    assert (await log_in(runtime.pool, "gia", PASSWORD, ip="127.0.0.1")).actor_id == (
        approved.actor.id
    )
    with pytest.raises(Conflict):
        await members.approve_member(runtime.pool, runtime.settings, "gia")
    with pytest.raises(Conflict):  # only waiting sign-ups can be turned down
        await members.reject_member(runtime.pool, runtime.settings, "gia")

    await members.reject_member(runtime.pool, runtime.settings, "hal")
    assert await members.list_pending_members(runtime.pool) == []
    with pytest.raises(NotFound):
        await members.find_member(runtime.pool, runtime.settings, "hal")
    await sign_up(runtime, "hal")  # the name is free again: it never federated


async def test_invitations(runtime: Runtime) -> None:
    await instance.set_registration_mode(runtime.pool, "invite")
    code, made = await invites.create_invite(runtime.pool, created_by=None, max_uses="1", days="")
    assert made.max_uses == 1 and made.expires_at is None
    assert invites.invite_url(runtime.settings, code).endswith(f"/signup?invite={code}")
    await sign_up(runtime, "ivy", invite_code=code)
    with pytest.raises(ValidationError):
        await sign_up(runtime, "jon", invite_code=code)  # used up

    second, other = await invites.create_invite(runtime.pool, created_by=None)
    await invites.revoke_invite(runtime.pool, other.id)
    with pytest.raises(ValidationError):
        await sign_up(runtime, "jon", invite_code=second)
    with pytest.raises(NotFound):
        await invites.revoke_invite(runtime.pool, other.id)
    for bad in ({"max_uses": "0"}, {"max_uses": "many"}, {"days": "400"}):
        with pytest.raises(ValidationError):
            await invites.create_invite(runtime.pool, created_by=None, **bad)  # type: ignore[arg-type]
    assert [i.id for i in await invites.list_invites(runtime.pool)] == [other.id, made.id]
