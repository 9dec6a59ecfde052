"""``GET /healthz``: 200 once the database answers. ``GET /livez``: 200 while the
process answers HTTP at all, database or not (for liveness probes: restarting a web
process does not bring a lost database back)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from fedinet import __version__
from fedinet.db.health import ping

__all__ = ["healthz", "livez"]


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


async def livez(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive", "version": __version__})
