"""One module per activity type; importing this package registers every handler.

Move and other types nobody handles are stored and marked ignored by the worker.
"""

from fedinet.federation.handlers import (
    accept,
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    like,
    undo,
    update,
)

__all__ = [
    "accept",
    "announce",
    "block",
    "create",
    "delete",
    "flag",
    "follow",
    "like",
    "undo",
    "update",
]
