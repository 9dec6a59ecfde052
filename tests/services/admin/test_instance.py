"""Instance settings an admin edits, as the rest of fedinet reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db.notes import max_canned_similarity
from fedinet.errors import Conflict, NotFound, ValidationError
from fedinet.runtime import Runtime
from fedinet.services.admin import instance
from fedinet.services.discovery import nodeinfo
from tests.web.api.conftest import build_app


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(settings, runtime))
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as http:
        yield http


@pytest.mark.parametrize(
    ("mode", "open_registrations"),
    [("open", True), ("approved", True), ("invite", False), ("closed", False)],
)
async def test_registration_mode(
    runtime: Runtime, client: httpx.AsyncClient, mode: str, open_registrations: bool
) -> None:
    assert await instance.get_registration_mode(runtime.pool) == "open"
    assert await instance.set_registration_mode(runtime.pool, f" {mode.upper()} ") == mode
    assert await instance.get_registration_mode(runtime.pool) == mode
    document = await nodeinfo(runtime.pool, runtime.settings)
    assert document["openRegistrations"] is open_registrations
    api = (await client.get("/api/v1/instance")).json()
    assert api["registrations"] is open_registrations


async def test_bad_registration_mode_is_refused(runtime: Runtime) -> None:
    with pytest.raises(ValidationError) as caught:
        await instance.set_registration_mode(runtime.pool, "everyone")
    assert caught.value.field == "registration_mode"
    assert await instance.get_registration_mode(runtime.pool) == "open"


async def test_sending_limits(runtime: Runtime) -> None:
    defaults = await instance.get_sending_limits(runtime.pool)
    assert defaults == {"new_account_days": 7, "new_per_day": 20, "per_day": 100}
    changed = await instance.set_sending_limits(runtime.pool, {"per_day": "50", "new_per_day": 5})
    assert changed == {"new_account_days": 7, "new_per_day": 5, "per_day": 50}
    for bad, field in (
        ({"per_day": -1}, "per_day"),
        ({"per_day": "lots"}, "per_day"),
        ({"per_day": True}, "per_day"),
        ({"per_day": 3}, "new_per_day"),  # below new_per_day
        ({"per_hour": 3}, "per_hour"),
    ):
        with pytest.raises(ValidationError) as caught:
            await instance.set_sending_limits(runtime.pool, bad)
        assert caught.value.field == field
    assert await instance.get_sending_limits(runtime.pool) == changed


async def test_rules_are_what_the_api_serves(runtime: Runtime, client: httpx.AsyncClient) -> None:
    await instance.add_rule(runtime.pool, "Be kind.")
    await instance.add_rule(runtime.pool, "No  spam.", "Commercial posts need consent.")
    await instance.add_rule(runtime.pool, "Temporary")
    rules = await instance.remove_rule(runtime.pool, 3)
    assert rules == [
        instance.Rule("Be kind."),
        instance.Rule("No spam.", "Commercial posts need consent."),
    ]
    served = (await client.get("/api/v1/instance/rules")).json()
    assert [(r["id"], r["text"], r["hint"]) for r in served] == [
        ("1", "Be kind.", ""),
        ("2", "No spam.", "Commercial posts need consent."),
    ]
    with pytest.raises(NotFound):
        await instance.remove_rule(runtime.pool, 3)
    with pytest.raises(ValidationError):
        await instance.add_rule(runtime.pool, "   ")
    with pytest.raises(ValidationError):
        await instance.add_rule(runtime.pool, "x" * 301)


async def test_texts(runtime: Runtime, client: httpx.AsyncClient) -> None:
    await instance.set_instance_text(runtime.pool, "title", "Gardeners")
    await instance.set_instance_text(runtime.pool, "description", "  A place for gardeners. ")
    await instance.set_instance_text(runtime.pool, "contact_email", "admin@example.org")
    texts = await instance.get_instance_texts(runtime.pool)
    assert texts["description"] == "A place for gardeners."
    api = (await client.get("/api/v2/instance")).json()
    assert api["title"] == "Gardeners" and api["description"] == "A place for gardeners."
    with pytest.raises(ValidationError) as caught:
        await instance.set_instance_text(runtime.pool, "contact_email", "not an address")
    assert caught.value.field == "contact_email"
    with pytest.raises(ValidationError):
        await instance.set_instance_text(runtime.pool, "description", "x" * 5001)
    with pytest.raises(ValidationError):
        await instance.set_instance_text(runtime.pool, "favicon", "x")


async def test_canned_invitations_feed_the_generic_note_rule(runtime: Runtime) -> None:
    ours = "Greetings! Join my circle of synergy partners today."
    score, _ = await max_canned_similarity(runtime.pool, ours)
    assert score < 0.5
    added = await instance.add_canned_invitation(runtime.pool, ours)
    assert not added.builtin
    score, matched = await max_canned_similarity(runtime.pool, ours)
    assert score == 1.0 and matched == ours
    with pytest.raises(Conflict):
        await instance.add_canned_invitation(runtime.pool, ours)
    await instance.remove_canned_invitation(runtime.pool, added.id)
    assert added.id not in {c.id for c in await instance.list_canned_invitations(runtime.pool)}
    with pytest.raises(NotFound):
        await instance.remove_canned_invitation(runtime.pool, added.id)
