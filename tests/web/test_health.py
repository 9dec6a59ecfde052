from __future__ import annotations

import httpx

from fedinet.runtime import Runtime


async def test_healthz_answers_when_database_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": "0.1.0"}


async def test_healthz_is_503_when_database_is_down(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await runtime.pool.close()
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_livez_answers_without_the_database(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    assert (await client.get("/livez")).json() == {"status": "alive", "version": "0.1.0"}
    await runtime.pool.close()
    assert (await client.get("/healthz")).status_code == 503
    response = await client.get("/livez")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"
