"""``GET /healthz``: 200 once the database answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from fedinet import __version__
from fedinet.db.health import ping

__all__ = ["healthz"]


async def healthz(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    try:
        await ping(runtime.pool)
    except Exception as exc:  # any failure to reach the database means unhealthy
        return JSONResponse(
            {"status": "unavailable", "database": "down", "error": str(exc) or type(exc).__name__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
