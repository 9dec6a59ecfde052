"""The delivery queue as an operator sees it, and the periodic clean-up.

Clean-up keeps (``FEDINET_*`` settings, see :mod:`fedinet.config`):

* delivery rows, delivered or given up: ``FEDINET_DELIVERY_RETENTION_DAYS`` (14);
* inbox activities once processed: ``FEDINET_INBOX_RETENTION_DAYS`` (7); a replay that old
  is refused by the signature's date check anyway;
* remote posts no member favourited, boosted, replied to or was mentioned in, and that
  nobody boosted lately: ``FEDINET_REMOTE_CONTENT_DAYS`` (90; 0 keeps them). They are
  fetched again if someone looks them up;
* OAuth authorization codes a day past their expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fedinet.config import Settings
from fedinet.db import deliveries as deliveries_db
from fedinet.db import domain_blocks as blocks_db
from fedinet.db import inbox as inbox_db
from fedinet.db import oauth as oauth_db
from fedinet.db import servers as servers_db
from fedinet.db import statuses as statuses_db
from fedinet.db.deliveries import DomainQueueStats
from fedinet.db.types import Connection, Executor
from fedinet.errors import ValidationError

__all__ = ["CleanupResult", "cleanup", "queue_stats", "retry_server"]

STATUS_BATCH = 500


@dataclass(frozen=True, slots=True)
class CleanupResult:
    deliveries: int
    inbox_items: int
    remote_statuses: int
    oauth_codes: int


async def queue_stats(db: Executor) -> list[DomainQueueStats]:
    """Pending and failed deliveries per server, the busiest first."""
    return await deliveries_db.queue_stats(db)


def _server_key(server: str) -> str:
    value = server.strip()
    try:
        key = deliveries_db.delivery_domain(value if "://" in value else f"https://{value}")
    except ValueError:
        key = ""
    if not key or any(c.isspace() or c in "/@?#" for c in value.partition("://")[2] or value):
        raise ValidationError(f"not a server name: {server!r}", field="server")
    return key


async def retry_server(conn: Connection, server: str) -> int:
    """Make every pending and failed delivery to ``server`` (``host[:port]``) due now and
    forget its failures; returns how many deliveries will be tried."""
    key = _server_key(server)
    if await blocks_db.is_domain_blocked(conn, key):
        raise ValidationError(
            f"{key} is suspended: lift the domain block first", field="server", reason="blocked"
        )
    async with conn.transaction():
        await servers_db.reset_server_failures(conn, key)
        return await deliveries_db.retry_domain_deliveries(conn, key)


async def cleanup(db: Executor, settings: Settings) -> CleanupResult:
    """Delete what is past its retention (each step commits on its own)."""
    deliveries = await deliveries_db.delete_finished_deliveries(
        db, timedelta(days=settings.delivery_retention_days)
    )
    inbox_items = await inbox_db.delete_processed_inbox_items(
        db, timedelta(days=settings.inbox_retention_days)
    )
    remote_statuses = 0
    if settings.remote_content_days > 0:
        age = timedelta(days=settings.remote_content_days)
        while True:
            removed = await statuses_db.delete_stale_remote_statuses(db, age, limit=STATUS_BATCH)
            remote_statuses += removed
            if removed < STATUS_BATCH:
                break
    codes = await oauth_db.delete_expired_codes(db)
    return CleanupResult(
        deliveries=deliveries,
        inbox_items=inbox_items,
        remote_statuses=remote_statuses,
        oauth_codes=codes,
    )
