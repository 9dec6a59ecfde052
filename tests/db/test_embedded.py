"""``fedinet`` on its embedded PostgreSQL, as a newcomer runs it: no database configured."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from tests.helpers.servers import ServerProcess, run_cli


def postgres_processes(pgdata: Path) -> list[str]:
    out = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True)
    return [
        line for line in out.stdout.splitlines() if "/postgres " in line and f"-D {pgdata}" in line
    ]


def test_serve_starts_reuses_and_stops_embedded_postgres(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pgdata = (data / "postgres").resolve()
    env = {"FEDINET_DATA_DIR": str(data)}

    first = ServerProcess(env, log=tmp_path / "first.log").start(wait=120)
    try:
        assert httpx.get(f"{first.url}/healthz", timeout=5).json()["database"] == "ok"
        assert len(postgres_processes(pgdata)) == 1

        # An admin command while the server runs shares the running PostgreSQL.
        made = run_cli("admin", "create-user", "gina", "--email", "g@example.org", env=env)
        assert made.returncode == 0, made.stderr
        assert len(postgres_processes(pgdata)) == 1, "a second PostgreSQL was started"
        assert first.proc is not None and first.proc.poll() is None
    finally:
        assert first.stop(signal.SIGTERM) == 0, first.log()
    assert postgres_processes(pgdata) == [], "PostgreSQL outlived fedinet serve"

    # A second start reuses the data: the member made above still exists.
    second = ServerProcess(env, log=tmp_path / "second.log").start(wait=120)
    try:
        again = run_cli("admin", "create-user", "gina", "--email", "x@example.org", env=env)
        assert again.returncode == 2
        assert "already taken" in again.stderr
    finally:
        assert second.stop(signal.SIGINT) == 0, second.log()
    assert postgres_processes(pgdata) == []
    assert "initialising embedded PostgreSQL" not in second.log()


def test_admin_command_alone_starts_and_stops_embedded_postgres(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"FEDINET_DATA_DIR": str(data)}
    result = run_cli("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "applied 0001_initial.sql" in result.stdout
    assert postgres_processes((data / "postgres").resolve()) == []
