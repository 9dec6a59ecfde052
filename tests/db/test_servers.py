from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from fedinet.db import domain_blocks as blocks_db
from fedinet.db import servers as servers_db
from fedinet.db.pool import Pool, create_pool
from fedinet.errors import ValidationError


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=2)
    yield opened
    await opened.close()


# --- servers ----------------------------------------------------------------------------


async def test_unknown_server_defaults_to_cavage(pool: Pool) -> None:
    assert await servers_db.get_server(pool, "remote.example") is None
    assert await servers_db.get_signature_format(pool, "remote.example") == "cavage"


async def test_signature_format_is_upserted(pool: Pool) -> None:
    await servers_db.set_signature_format(pool, "Remote.Example:8443", "rfc9421")
    assert await servers_db.get_signature_format(pool, "remote.example:8443") == "rfc9421"
    assert await servers_db.get_signature_format(pool, "remote.example") == "cavage"
    server = await servers_db.get_server(pool, "remote.example:8443")
    assert server is not None and server.domain == "remote.example:8443"
    assert server.signature_format == "rfc9421" and server.consecutive_failures == 0
    await servers_db.set_signature_format(pool, "remote.example:8443", "cavage")
    assert await servers_db.get_signature_format(pool, "remote.example:8443") == "cavage"


async def test_unknown_signature_format_is_refused(pool: Pool) -> None:
    with pytest.raises(ValueError, match="unknown signature format"):
        await servers_db.set_signature_format(pool, "remote.example", "jws")  # type: ignore[arg-type]
    with pytest.raises(asyncpg.CheckViolationError):  # and the schema agrees
        await pool.execute(
            "INSERT INTO servers (domain, signature_format) VALUES ('x.example', 'jws')"
        )


async def test_failures_and_success(pool: Pool) -> None:
    first = await servers_db.record_failure(pool, "down.example")
    assert first.consecutive_failures == 1 and first.unreachable_since is not None
    second = await servers_db.record_failure(pool, "DOWN.example")
    assert second.consecutive_failures == 2
    assert second.unreachable_since == first.unreachable_since  # since the first failure
    assert second.last_success_at is None

    await servers_db.record_success(pool, "down.example")
    server = await servers_db.get_server(pool, "down.example")
    assert server is not None
    assert server.consecutive_failures == 0 and server.unreachable_since is None
    assert server.last_success_at is not None

    third = await servers_db.record_failure(pool, "down.example")
    assert third.consecutive_failures == 1
    assert third.unreachable_since is not None and third.unreachable_since > first.unreachable_since


async def test_failures_keep_the_learned_format(pool: Pool) -> None:
    await servers_db.set_signature_format(pool, "remote.example", "rfc9421")
    await servers_db.record_failure(pool, "remote.example")
    await servers_db.record_success(pool, "new.example")
    assert await servers_db.get_signature_format(pool, "remote.example") == "rfc9421"
    assert await servers_db.get_signature_format(pool, "new.example") == "cavage"


# --- domain blocks ----------------------------------------------------------------------


async def test_a_block_covers_subdomains_and_ports(pool: Pool) -> None:
    block = await blocks_db.add_domain_block(pool, "Example.COM", "suspend", "spam")
    assert (block.domain, block.severity, block.reason) == ("example.com", "suspend", "spam")
    for domain in (
        "example.com",
        "EXAMPLE.com",
        "example.com.",
        "a.example.com",
        "a.b.example.com",
        "example.com:8443",
        "a.example.com:443",
    ):
        assert await blocks_db.is_domain_blocked(pool, domain), domain
    for domain in (
        "notexample.com",
        "example.com.evil.org",
        "example.org",
        "com",
        "xample.com",
    ):
        assert not await blocks_db.is_domain_blocked(pool, domain), domain


async def test_a_subdomain_block_does_not_cover_the_parent(pool: Pool) -> None:
    await blocks_db.add_domain_block(pool, "bad.example.com")
    assert await blocks_db.is_domain_blocked(pool, "x.bad.example.com")
    assert not await blocks_db.is_domain_blocked(pool, "example.com")
    assert not await blocks_db.is_domain_blocked(pool, "good.example.com")


async def test_ip_blocks(pool: Pool) -> None:
    await blocks_db.add_domain_block(pool, "127.0.0.1", "suspend", "test")
    assert await blocks_db.is_domain_blocked(pool, "127.0.0.1:8001")
    assert not await blocks_db.is_domain_blocked(pool, "27.0.0.1")
    assert not await blocks_db.is_domain_blocked(pool, "10.127.0.0.1")


async def test_silence_is_not_a_block_but_is_found(pool: Pool) -> None:
    await blocks_db.add_domain_block(pool, "loud.example", "silence", "too loud")
    await blocks_db.add_domain_block(pool, "worse.loud.example", "suspend")
    assert not await blocks_db.is_domain_blocked(pool, "a.loud.example")
    found = await blocks_db.find_domain_block(pool, "a.loud.example")
    assert found is not None and found.severity == "silence"
    # the most specific block wins
    found = await blocks_db.find_domain_block(pool, "x.worse.loud.example")
    assert found is not None and found.domain == "worse.loud.example"
    assert await blocks_db.is_domain_blocked(pool, "x.worse.loud.example")
    assert await blocks_db.find_domain_block(pool, "quiet.example") is None


async def test_block_again_updates_then_remove_and_list(pool: Pool) -> None:
    await blocks_db.add_domain_block(pool, "b.example", "silence", "first")
    await blocks_db.add_domain_block(pool, "a.example")
    updated = await blocks_db.add_domain_block(pool, "b.example", "suspend", "second")
    assert (updated.severity, updated.reason) == ("suspend", "second")
    listed = await blocks_db.list_domain_blocks(pool)
    assert [(b.domain, b.severity) for b in listed] == [
        ("a.example", "suspend"),
        ("b.example", "suspend"),
    ]
    assert await blocks_db.remove_domain_block(pool, "B.example")
    assert not await blocks_db.remove_domain_block(pool, "b.example")
    assert not await blocks_db.is_domain_blocked(pool, "b.example")
    assert [b.domain for b in await blocks_db.list_domain_blocks(pool)] == ["a.example"]


@pytest.mark.parametrize(
    ("domain", "severity", "field"),
    [
        ("example.com", "ban", "severity"),
        ("", "suspend", "domain"),
        ("https://example.com/", "suspend", "domain"),
        ("exa mple.com", "suspend", "domain"),
    ],
)
async def test_bad_blocks_are_refused(pool: Pool, domain: str, severity: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        await blocks_db.add_domain_block(pool, domain, severity)  # type: ignore[arg-type]
    assert info.value.field == field
    assert await blocks_db.list_domain_blocks(pool) == []


@pytest.mark.parametrize(
    ("domain", "covering"),
    [
        ("a.b.example.com", ["a.b.example.com", "b.example.com", "example.com", "com"]),
        ("Example.com:8443", ["example.com:8443", "example.com", "com"]),
        ("10.0.0.1:80", ["10.0.0.1:80", "10.0.0.1"]),
        ("[::1]:8000", ["[::1]:8000", "[::1]"]),
        ("[::1]", ["[::1]"]),
    ],
)
def test_covering_domains(domain: str, covering: list[str]) -> None:
    assert blocks_db.covering_domains(domain) == covering
