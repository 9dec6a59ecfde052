"""Password hashing with scrypt (memory-hard), from ``cryptography``.

Stored form: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>`` so that the cost can be
raised later without invalidating existing hashes.
"""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = ["hash_password", "needs_rehash", "verify_password"]

_LOG2_N = 15  # n = 32768, r = 8 -> 32 MiB of memory per hash
_R = 8
_P = 1
_LENGTH = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    kdf = Scrypt(salt=salt, length=_LENGTH, n=2**log2_n, r=r, p=p)
    return kdf.derive(password.encode("utf-8"))


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _derive(password, salt, _LOG2_N, _R, _P)
    return f"scrypt${_LOG2_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for any malformed hash."""
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = _derive(password, _unb64(salt), int(log2_n), int(r), int(p))
        return hmac.compare_digest(candidate, _unb64(digest))
    except (ValueError, TypeError):
        return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${_LOG2_N}${_R}${_P}$")
