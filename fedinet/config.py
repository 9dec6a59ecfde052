"""Settings, read once from the environment into a typed, frozen object.

This module imports nothing from the rest of fedinet except the error type, so that
every other layer can depend on it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fedinet.errors import ConfigError

__all__ = ["ENV_VARS", "EVERYWHERE", "LOOPBACK", "Network", "Settings", "load_settings"]

# name -> (default shown in docs, description). The README's table is built from this.
ENV_VARS: dict[str, tuple[str, str]] = {
    "FEDINET_URL": ("http://localhost:8000", "Public base URL; ids are minted from it."),
    "FEDINET_DATABASE_URL": (
        "(unset: embedded PostgreSQL)",
        "PostgreSQL URL; unset starts an embedded PostgreSQL in the data dir.",
    ),
    "FEDINET_DATA_DIR": ("./fedinet-data", "Where the embedded database, keys and media live."),
    "FEDINET_SECRET_KEY": ("(generated)", "Secret for sessions and tokens; kept in the data dir."),
    "FEDINET_ALLOW_PRIVATE_NETWORKS": (
        "false",
        "Allow federation with loopback/private addresses (local setups and tests).",
    ),
    "FEDINET_AUTHORIZED_FETCH": (
        "false",
        "Require signed requests for actors, collections and objects.",
    ),
    "FEDINET_LOG_LEVEL": ("info", "debug, info, warning or error."),
    "FEDINET_WORKERS_IN_WEB": (
        "true",
        "Whether `fedinet serve` also runs the background workers.",
    ),
    "FEDINET_API_RATE_LIMITS": (
        "true",
        "Mastodon's per-token and per-IP limits on the client API (off only for load tests).",
    ),
    "FEDINET_DELIVERY_LEASE_SECONDS": (
        "300",
        "How long a worker holds a claimed delivery before another may take it over.",
    ),
    "FEDINET_DELIVERY_RETRY_BASE_SECONDS": (
        "30",
        "First wait before retrying a failed delivery; it doubles on each attempt.",
    ),
    "FEDINET_TRUSTED_PROXIES": (
        "127.0.0.1,::1",
        "Proxy addresses/CIDRs whose X-Forwarded-For/-Proto and Forwarded headers are "
        "believed; `*` trusts every peer, empty trusts none.",
    ),
    "FEDINET_METRICS_ALLOW": (
        "(empty)",
        "Client addresses/CIDRs that may read /metrics without a token.",
    ),
    "FEDINET_METRICS_TOKEN": (
        "(unset)",
        "Bearer token that opens /metrics from anywhere; with neither set /metrics is 404.",
    ),
    "FEDINET_SHUTDOWN_GRACE": (
        "20",
        "Seconds SIGTERM waits for requests and claimed deliveries in flight before "
        "releasing the rest.",
    ),
    "FEDINET_DB_POOL_SIZE": ("10", "Most PostgreSQL connections one process opens."),
    "FEDINET_RESOLVE": (
        "(unset)",
        "Tests and staging only: `host=IP` pairs answered before DNS for outgoing "
        "federation requests (like curl's --resolve).",
    ),
    "FEDINET_MEDIA_MAX_BYTES": (
        "16777216",
        "Largest image a member may upload (bytes); bigger ones are refused with 422.",
    ),
    "FEDINET_DELIVERY_RETENTION_DAYS": (
        "14",
        "`fedinet admin cleanup` deletes delivered and failed delivery rows older than this.",
    ),
    "FEDINET_INBOX_RETENTION_DAYS": (
        "7",
        "`fedinet admin cleanup` deletes processed inbox activities older than this.",
    ),
    "FEDINET_REMOTE_CONTENT_DAYS": (
        "90",
        "`fedinet admin cleanup` deletes remote posts older than this that no member "
        "touched (favourite, boost, reply, mention); 0 keeps them forever.",
    ),
    "FEDINET_SMTP_HOST": (
        "(unset: mails are written to the log)",
        "SMTP server for password-reset mails.",
    ),
    "FEDINET_SMTP_PORT": ("587", "SMTP port."),
    "FEDINET_SMTP_USERNAME": ("(unset)", "SMTP login, if the server wants one."),
    "FEDINET_SMTP_PASSWORD": ("(unset)", "SMTP password."),
    "FEDINET_SMTP_FROM": ("noreply@<domain>", "Sender address of fedinet's mails."),
    "FEDINET_SMTP_SECURITY": (
        "starttls",
        "starttls, tls (implicit TLS, usually port 465) or none.",
    ),
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.1/32"),
    ipaddress.ip_network("::1/128"),
)
EVERYWHERE: tuple[Network, ...] = (
    ipaddress.ip_network("0.0.0.0/0"),
    ipaddress.ip_network("::/0"),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LOG_LEVELS = ("debug", "info", "warning", "error")
_SMTP_SECURITY = ("starttls", "tls", "none")
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True, slots=True)
class Settings:
    url: str
    """Public base URL without a trailing slash, e.g. ``https://social.example``."""
    database_url: str | None
    data_dir: Path
    secret_key: str
    allow_private_networks: bool = False
    authorized_fetch: bool = False
    log_level: str = "info"
    workers_in_web: bool = True
    api_rate_limits: bool = True
    """Mastodon's rate limits on ``/api/`` and ``/oauth/`` (fedinet/web/api/middleware.py)."""
    delivery_lease: float = 300.0
    """Seconds a claimed delivery stays leased to its worker."""
    delivery_retry_base: float = 30.0
    """Seconds before the first retry of a failed delivery (doubling after)."""
    trusted_proxies: tuple[Network, ...] = LOOPBACK
    """Peers whose forwarded headers (client address, scheme) are believed."""
    metrics_allow: tuple[Network, ...] = ()
    metrics_token: str | None = None
    shutdown_grace: float = 20.0
    """Seconds SIGTERM waits for work in flight before releasing it."""
    db_pool_size: int = 10
    resolve: tuple[tuple[str, str], ...] = ()
    """Test-only ``(host, ip)`` pairs answered before DNS for outgoing requests."""
    media_max_bytes: int = 16 * 1024 * 1024
    """Largest upload accepted by the media endpoints and avatar/header uploads."""

    @property
    def media_dir(self) -> Path:
        """Where uploaded files are kept: ``<data_dir>/media``."""
        return self.data_dir / "media"

    delivery_retention_days: int = 14
    inbox_retention_days: int = 7
    remote_content_days: int = 90
    """0: remote posts are kept forever."""
    smtp_host: str | None = None
    """SMTP server for mails (password resets); None writes them to the log instead."""
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    """Sender address; None means ``noreply@<host of url>``."""
    smtp_security: str = "starttls"
    """``starttls``, ``tls`` (implicit) or ``none``."""

    @property
    def domain(self) -> str:
        """The instance's domain: host[:port] of ``url``."""
        return urlsplit(self.url).netloc.lower()

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def _seconds(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"expected a number of seconds, got {raw!r}") from None
    if not value >= minimum:
        raise ConfigError(name, f"must be at least {minimum:g} seconds")
    return value


def _networks(
    env: Mapping[str, str], name: str, default: tuple[Network, ...]
) -> tuple[Network, ...]:
    """Comma-separated IPs or CIDRs (``*`` for every address, empty for none)."""
    raw = env.get(name)
    if raw is None:
        return default
    out: list[Network] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            out.extend(EVERYWHERE)
            continue
        try:
            out.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            raise ConfigError(name, f"not an IP address or CIDR: {item!r}") from None
    return tuple(out)


def _positive_int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}")
    return value


def _resolve(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    name = "FEDINET_RESOLVE"
    pairs: list[tuple[str, str]] = []
    for item in (part.strip() for part in env.get(name, "").split(",")):
        if not item:
            continue
        host, sep, ip = item.partition("=")
        try:
            address = ipaddress.ip_address(ip.strip().strip("[]"))
        except ValueError:
            raise ConfigError(name, f"expected host=IP, got {item!r}") from None
        if not sep or not host.strip():
            raise ConfigError(name, f"expected host=IP, got {item!r}")
        pairs.append((host.strip().lower(), str(address)))
    return tuple(pairs)


def _token(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if len(raw) < 16:
        raise ConfigError(name, "must be at least 16 characters long")
    return raw


def _days(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(name, f"expected a whole number of days, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum} days")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(name, f"expected a port number, got {raw!r}")
    return int(raw)


def _optional(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    return raw.strip() if raw is not None and raw.strip() else None


def _parse_url(raw: str) -> str:
    name = "FEDINET_URL"
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(name, f"not a valid URL ({exc}): {raw!r}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(name, f"must start with http:// or https://, got {raw!r}")
    if not parts.hostname:
        raise ConfigError(name, f"has no host: {raw!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(name, f"must be a bare origin without path or query, got {raw!r}")
    if parts.username or parts.password:
        raise ConfigError(name, "must not contain credentials")
    host = parts.hostname.lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


def _parse_database_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    scheme = urlsplit(value).scheme
    if scheme not in ("postgres", "postgresql"):
        raise ConfigError(
            "FEDINET_DATABASE_URL",
            f"must be a postgresql:// URL, got scheme {scheme or 'none'!r}",
        )
    return value


def _data_dir(raw: str) -> Path:
    name = "FEDINET_DATA_DIR"
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(name, f"cannot create {path}: {exc.strerror}") from None
    if not path.is_dir():
        raise ConfigError(name, f"{path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(name, f"{path} is not writable")
    return path


def _secret_key(raw: str | None, data_dir: Path) -> str:
    name = "FEDINET_SECRET_KEY"
    if raw is not None and raw != "":
        if len(raw) < 32:
            raise ConfigError(name, "must be at least 32 characters long")
        return raw
    path = data_dir / SECRET_FILE
    try:
        if path.exists():
            key = path.read_text().strip()
            if len(key) < 32:
                raise ConfigError(name, f"the stored key in {path} is too short; delete it")
            return key
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        return key
    except FileExistsError:  # another process created it between exists() and open()
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(name, f"cannot read or write {path}: {exc.strerror}") from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings; raise :class:`ConfigError` naming the variable on a bad value."""
    env = os.environ if env is None else env
    url = _parse_url(env.get("FEDINET_URL", ENV_VARS["FEDINET_URL"][0]))
    database_url = _parse_database_url(env.get("FEDINET_DATABASE_URL"))
    data_dir = _data_dir(env.get("FEDINET_DATA_DIR", "./fedinet-data"))
    log_level = env.get("FEDINET_LOG_LEVEL", "info").strip().lower()
    if log_level not in _LOG_LEVELS:
        raise ConfigError("FEDINET_LOG_LEVEL", f"must be one of {', '.join(_LOG_LEVELS)}")
    smtp_security = env.get("FEDINET_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
    if smtp_security not in _SMTP_SECURITY:
        raise ConfigError("FEDINET_SMTP_SECURITY", f"must be one of {', '.join(_SMTP_SECURITY)}")
    return Settings(
        url=url,
        database_url=database_url,
        data_dir=data_dir,
        secret_key=_secret_key(env.get("FEDINET_SECRET_KEY"), data_dir),
        allow_private_networks=_bool(env, "FEDINET_ALLOW_PRIVATE_NETWORKS", False),
        authorized_fetch=_bool(env, "FEDINET_AUTHORIZED_FETCH", False),
        log_level=log_level,
        workers_in_web=_bool(env, "FEDINET_WORKERS_IN_WEB", True),
        api_rate_limits=_bool(env, "FEDINET_API_RATE_LIMITS", True),
        delivery_lease=_seconds(env, "FEDINET_DELIVERY_LEASE_SECONDS", 300.0, 1.0),
        delivery_retry_base=_seconds(env, "FEDINET_DELIVERY_RETRY_BASE_SECONDS", 30.0, 0.1),
        trusted_proxies=_networks(env, "FEDINET_TRUSTED_PROXIES", LOOPBACK),
        metrics_allow=_networks(env, "FEDINET_METRICS_ALLOW", ()),
        metrics_token=_token(env, "FEDINET_METRICS_TOKEN"),
        shutdown_grace=_seconds(env, "FEDINET_SHUTDOWN_GRACE", 20.0, 0.0),
        db_pool_size=_positive_int(env, "FEDINET_DB_POOL_SIZE", 10, 1),
        resolve=_resolve(env),
        media_max_bytes=_positive_int(env, "FEDINET_MEDIA_MAX_BYTES", 16 * 1024 * 1024, 1024),
        delivery_retention_days=_days(env, "FEDINET_DELIVERY_RETENTION_DAYS", 14, 1),
        inbox_retention_days=_days(env, "FEDINET_INBOX_RETENTION_DAYS", 7, 1),
        remote_content_days=_days(env, "FEDINET_REMOTE_CONTENT_DAYS", 90, 0),
        smtp_host=_optional(env, "FEDINET_SMTP_HOST"),
        smtp_port=_port(env, "FEDINET_SMTP_PORT", 587),
        smtp_username=_optional(env, "FEDINET_SMTP_USERNAME"),
        smtp_password=env.get("FEDINET_SMTP_PASSWORD") or None,
        smtp_from=_optional(env, "FEDINET_SMTP_FROM"),
        smtp_security=smtp_security,
    )
