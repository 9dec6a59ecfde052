"""Start real ``fedinet`` processes on loopback for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

__all__ = [
    "ServerProcess",
    "free_port",
    "password_token",
    "register_app",
    "run_cli",
    "start_worker",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDINET_")}
    env.update(extra)
    return env


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``fedinet ARGS`` in a child process and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "fedinet", *args],
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ServerProcess:
    """``fedinet serve`` in a child process; ``url`` is where it listens."""

    def __init__(self, env: Mapping[str, str], *, port: int | None = None, log: Path) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"FEDINET_URL": self.url, **env}
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: float = 60) -> ServerProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fedinet", "serve", "--port", str(self.port)],
            env=_env(self.env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fedinet serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"fedinet serve did not become healthy:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.stop()


def start_worker(
    env: Mapping[str, str], *, log: Path, args: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``fedinet worker ARGS`` in a child process (stop it with ``.terminate()`` or
    ``.kill()``)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "fedinet", "worker", *args],
            env=_env(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def register_app(http: httpx.Client, url: str, scopes: str) -> tuple[str, str]:
    """Register a client app at ``url`` (``POST /api/v1/apps``): (client id, secret)."""
    response = http.post(
        f"{url}/api/v1/apps",
        data={
            "client_name": "fedinet tests",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["client_id"], response.json()["client_secret"]


def password_token(
    http: httpx.Client, url: str, app: tuple[str, str], email: str, password: str, scope: str
) -> str:
    """A member's token by the OAuth password grant, as a client app gets one."""
    response = http.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app[0],
            "client_secret": app[1],
            "username": email,
            "password": password,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
