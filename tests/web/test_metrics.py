"""``GET /metrics``: who may read it, and what it shows (checked with Prometheus' own
parser from ``prometheus_client``, a test-only dependency)."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fedinet import metrics
from fedinet.app import create_app
from fedinet.config import LOOPBACK, Settings
from fedinet.db.actors import insert_actor
from fedinet.db.deliveries import claim_deliveries, enqueue_deliveries, insert_activity
from fedinet.runtime import Runtime

TOKEN = "metrics-token-0123456789abcdef"
MONITOR = "10.1.2.3"

Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def make_client(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """``make_client(peer, **settings changes)``: a client of an app built with those
    settings, connecting from ``peer``."""
    opened: list[httpx.AsyncClient] = []

    def make(peer: str = "127.0.0.1", **changes: object) -> httpx.AsyncClient:
        app = create_app(dataclasses.replace(settings, **changes), runtime=runtime)
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        http = httpx.AsyncClient(transport=transport, base_url=settings.url)
        opened.append(http)
        return http

    yield make
    for http in opened:
        await http.aclose()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def test_without_allow_list_or_token_metrics_do_not_exist(make_client: Client) -> None:
    http = make_client("127.0.0.1")
    assert (await http.get("/metrics")).status_code == 404
    assert (
        await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    ).status_code == 404


async def test_allow_list_admits_listed_addresses_only(make_client: Client) -> None:
    allow = (ipaddress.ip_network("10.1.2.0/24"),)
    assert (await make_client(MONITOR, metrics_allow=allow).get("/metrics")).status_code == 200
    outsider = make_client("203.0.113.9", metrics_allow=allow)
    assert (await outsider.get("/metrics")).status_code == 403
    # A forwarded address counts only through a trusted proxy.
    spoof = {"X-Forwarded-For": MONITOR}
    assert (await outsider.get("/metrics", headers=spoof)).status_code == 403
    via_proxy = make_client("127.0.0.1", metrics_allow=allow, trusted_proxies=LOOPBACK)
    assert (await via_proxy.get("/metrics", headers=spoof)).status_code == 200
    assert (
        await via_proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    ).status_code == 403


async def test_token_admits_anyone_who_has_it(make_client: Client) -> None:
    http = make_client("203.0.113.9", metrics_token=TOKEN)
    assert (await http.get("/metrics")).status_code == 403
    wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
    assert (await http.get("/metrics", headers=wrong)).status_code == 403
    assert (await http.get("/metrics", headers={"Authorization": TOKEN})).status_code == 403
    right = {"Authorization": f"Bearer {TOKEN}"}
    response = await http.get("/metrics", headers=right)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


async def test_latency_by_route_template_and_inbox_results(make_client: Client) -> None:
    http = make_client("127.0.0.1", metrics_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = samples((await http.get("/metrics", headers=auth)).text)
    await http.get("/users/nobody")
    await http.get("/users/nobody-else")
    unsigned = await http.post("/inbox", content=b"{}")  # no signature: refused
    assert unsigned.status_code == 401
    reason = unsigned.json()["reason"]
    after = samples((await http.get("/metrics", headers=auth)).text)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    route = {"method": "GET", "route": "/users/{username}", "status": "4xx"}
    assert delta("fedinet_http_request_duration_seconds_count", **route) == 2
    assert delta("fedinet_http_request_duration_seconds_bucket", **route, le="+Inf") == 2
    assert delta("fedinet_inbox_requests_total", result="rejected", reason=reason) == 1
    families = {
        family.name: family.type
        for family in text_string_to_metric_families(
            (await http.get("/metrics", headers=auth)).text
        )
    }
    assert families["fedinet_http_request_duration_seconds"] == "histogram"
    assert families["fedinet_inbox_requests"] == "counter"  # the parser drops _total


async def test_queue_gauges_come_from_the_database(make_client: Client, runtime: Runtime) -> None:
    http = make_client("127.0.0.1", metrics_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    empty = samples((await http.get("/metrics", headers=auth)).text)
    assert empty[("fedinet_queue_pending", (("queue", "deliveries"),))] == 0
    assert empty[("fedinet_queue_oldest_seconds", (("queue", "inbox"),))] == 0

    async with runtime.pool.acquire() as conn:
        actor = await insert_actor(
            conn,
            uri="https://fedinet.test/users/m",
            is_local=True,
            username="m",
            domain="fedinet.test",
        )
        activity = await insert_activity(
            conn,
            uri="https://fedinet.test/a/1",
            actor_id=actor.id,
            activity_type="Create",
            object_uri=None,
            visibility="public",
            body={"type": "Create"},
        )
        inboxes = [f"https://peer{i}.example/inbox" for i in range(3)]
        await enqueue_deliveries(conn, activity.id, inboxes)
        await conn.execute("UPDATE deliveries SET created_at = now() - interval '90 seconds'")
        await claim_deliveries(conn, limit=1, lease=timedelta(minutes=5))
        # raw SQL: the inbox's own insert is tuned for the hot path and may change shape
        await conn.execute(
            "INSERT INTO inbox_items (activity_type, actor_uri, key_id, body)"
            " VALUES ('Create', 'https://peer.example/u', 'k', '{}')"
        )
    full = samples((await http.get("/metrics", headers=auth)).text)
    assert full[("fedinet_queue_pending", (("queue", "deliveries"),))] == 3
    assert full[("fedinet_queue_pending", (("queue", "inbox"),))] == 1
    assert full[("fedinet_deliveries_leased", ())] == 1
    assert 90 <= full[("fedinet_queue_oldest_seconds", (("queue", "deliveries"),))] < 150


def test_counters_of_the_process_are_rendered() -> None:
    metrics.DELIVERIES.inc("delivered")
    metrics.NOTE_REFUSALS.inc("note_too_short")
    parsed = samples(metrics.render())
    assert parsed[("fedinet_deliveries_total", (("outcome", "delivered"),))] >= 1
    assert parsed[("fedinet_note_refusals_total", (("reason", "note_too_short"),))] >= 1
