"""The one exception hierarchy of fedinet.

Nothing below ``web/`` knows about HTTP; ``fedinet.web.errors`` maps these classes to
status codes and response bodies. Every error carries a human sentence (``str(exc)``)
and, where useful, a machine-readable ``reason`` code.

::

    FedinetError
    ├── ConfigError                 bad environment variable (names the variable)
    ├── DatabaseError               the database is unreachable or misbehaves
    │   └── MigrationError          a migration failed or an applied one was edited
    ├── NotFound                    no such account, status, object …
    │   └── Gone                    it existed and was deleted or suspended
    ├── ValidationError             bad input from a client (field + reason)
    │   └── NoteRefused             a follow note fails a rule (reason + hint)
    ├── Conflict                    unique constraint: username taken, …
    ├── PermissionDenied            authenticated but not allowed
    ├── Unauthorized                no or bad credentials
    ├── RateLimited                 too many requests (retry_after seconds)
    └── FederationError             something about another server
        ├── SignatureError          an HTTP signature or digest is missing or wrong
        │   ├── SignatureMissing
        │   ├── SignatureInvalid    malformed header, bad algorithm, verify failed
        │   ├── SignatureExpired    date outside the window or ``expires`` passed
        │   └── DigestMismatch      body does not match Digest / Content-Digest
        ├── BadActivity             malformed or inconsistent activity document
        ├── ActorMismatch           key owner is not the activity's actor
        ├── DomainBlocked           the sending or target domain is blocked
        └── RemoteFetchError        a remote document could not be fetched or was refused
            └── UnsafeAddress       SSRF guard: private/loopback target not allowed
"""

from __future__ import annotations

__all__ = [
    "ActorMismatch",
    "BadActivity",
    "ConfigError",
    "Conflict",
    "DatabaseError",
    "DigestMismatch",
    "DomainBlocked",
    "FederationError",
    "FedinetError",
    "Gone",
    "MigrationError",
    "NotFound",
    "NoteRefused",
    "PermissionDenied",
    "RateLimited",
    "RemoteFetchError",
    "SignatureError",
    "SignatureExpired",
    "SignatureInvalid",
    "SignatureMissing",
    "Unauthorized",
    "UnsafeAddress",
    "ValidationError",
]


class FedinetError(Exception):
    """Base class. ``reason`` is a short machine-readable code."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class ConfigError(FedinetError):
    """A configuration value is wrong. ``variable`` names it."""

    reason = "config"

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class DatabaseError(FedinetError):
    reason = "database"


class MigrationError(DatabaseError):
    reason = "migration"


class NotFound(FedinetError):
    reason = "not_found"


class Gone(NotFound):
    reason = "gone"


class ValidationError(FedinetError):
    """Bad client input. ``field`` names the offending field when there is one."""

    reason = "validation"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reason: str | None = None,
        details: dict[str, list[dict[str, str]]] | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.field = field
        self.details = details
        """Per field, Mastodon's ``[{"error": "ERR_TAKEN", "description": "…"}]``."""


class NoteRefused(ValidationError):
    """A follow request's note fails one of the recipient's rules. ``reason`` is the rule
    (``note_missing``, ``note_too_short``, ``note_generic``, ``note_repeated``,
    ``note_impersonal``); ``hint`` says how to write a better one."""

    def __init__(self, message: str, *, reason: str, hint: str) -> None:
        super().__init__(message, field="note", reason=reason)
        self.hint = hint


class Conflict(FedinetError):
    reason = "conflict"


class PermissionDenied(FedinetError):
    reason = "forbidden"


class Unauthorized(FedinetError):
    reason = "unauthorized"


class RateLimited(FedinetError):
    reason = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class FederationError(FedinetError):
    reason = "federation"


class SignatureError(FederationError):
    reason = "signature"


class SignatureMissing(SignatureError):
    reason = "signature_missing"


class SignatureInvalid(SignatureError):
    reason = "signature_invalid"


class SignatureExpired(SignatureError):
    reason = "signature_expired"


class DigestMismatch(SignatureError):
    reason = "digest_mismatch"


class BadActivity(FederationError):
    reason = "bad_activity"


class ActorMismatch(FederationError):
    reason = "actor_mismatch"


class DomainBlocked(FederationError):
    reason = "domain_blocked"


class RemoteFetchError(FederationError):
    reason = "remote_fetch"


class UnsafeAddress(RemoteFetchError):
    reason = "unsafe_address"
