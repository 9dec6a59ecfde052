"""The ``fedinet`` command, run as a real child process."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from fedinet.db.pool import drop_database, ensure_database, with_database
from tests.helpers.servers import ServerProcess, run_cli


def base_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "FEDINET_DATA_DIR": str(tmp_path / "data"),
        "FEDINET_DATABASE_URL": database_url,
        "FEDINET_URL": "https://fedinet.test",
    }


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", env={})
    assert result.returncode == 0
    for command in ("serve", "worker", "migrate", "admin"):
        assert command in result.stdout
    for args in (["serve"], ["worker"], ["migrate"], ["admin"], ["admin", "create-user"]):
        sub = run_cli(*args, "--help", env={})
        assert sub.returncode == 0, sub.stderr
        assert "usage: fedinet" in sub.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FEDINET_URL", "not a url"),
        ("FEDINET_DATABASE_URL", "mysql://x/y"),
        ("FEDINET_LOG_LEVEL", "shouty"),
    ],
)
def test_bad_setting_is_one_clear_line(tmp_path: Path, variable: str, value: str) -> None:
    env = {"FEDINET_DATA_DIR": str(tmp_path / "data"), variable: value}
    result = run_cli("migrate", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"fedinet: error: {variable}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = base_env(tmp_path, "postgresql://nobody@127.0.0.1:1/fedinet")
    for args in (["migrate"], ["serve", "--port", "1"]):
        result = run_cli(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert "fedinet: error: cannot connect to the database" in result.stderr
        assert "Traceback" not in result.stderr


def test_migrate_applies_then_reports_up_to_date(tmp_path: Path, pg_server: str) -> None:
    name = f"fedinet_cli_{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_database(pg_server, name))
    try:
        env = base_env(tmp_path, with_database(pg_server, name))
        first = run_cli("migrate", env=env)
        assert first.returncode == 0, first.stderr
        assert "applied 0001_initial.sql" in first.stdout
        second = run_cli("migrate", env=env)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "the database is up to date"
    finally:
        asyncio.run(drop_database(pg_server, name))


def test_create_user(tmp_path: Path, database_url: str) -> None:
    env = base_env(tmp_path, database_url)
    ok = run_cli("admin", "create-user", "dana", "--email", "dana@example.org", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "created member @dana@fedinet.test <dana@example.org>" in ok.stdout
    assert "password: " in ok.stdout
    generated = ok.stdout.split("password: ", 1)[1].strip()
    assert len(generated) >= 16
    assert generated not in ok.stderr  # never logged

    admin = run_cli(
        "admin",
        "create-user",
        "eve",
        "--email",
        "eve@example.org",
        "--password",
        "a long password",
        "--admin",
        env=env,
    )
    assert admin.returncode == 0, admin.stderr
    assert "created admin @eve@fedinet.test" in admin.stdout
    assert "password:" not in admin.stdout
    assert "a long password" not in admin.stderr

    duplicate = run_cli("admin", "create-user", "DANA", "--email", "x@example.org", env=env)
    assert duplicate.returncode == 2
    assert duplicate.stderr.strip() == "fedinet: error: the username 'DANA' is already taken"

    invalid = run_cli("admin", "create-user", "no-dashes", "--email", "n@example.org", env=env)
    assert invalid.returncode == 2
    assert "may only contain letters, digits and underscores" in invalid.stderr
    assert "Traceback" not in invalid.stderr

    missing_email = run_cli("admin", "create-user", "frank", env=env)
    assert missing_email.returncode == 2
    assert "--email" in missing_email.stderr


def test_serve_answers_over_http_and_stops_on_sigterm(tmp_path: Path, database_url: str) -> None:
    env = base_env(tmp_path, database_url)
    env.pop("FEDINET_URL")
    server = ServerProcess(env, log=tmp_path / "serve.log").start()
    try:
        response = httpx.get(f"{server.url}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.log()
    log = server.log()
    assert "path=/healthz status=200" in log
    assert "Traceback" not in log
