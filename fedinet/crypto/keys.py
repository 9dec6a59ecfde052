"""Key generation, PEM loading and FEP-521a Multikey (Ed25519 ``publicKeyMultibase``).

Everything here raises ``ValueError`` for input that is not a usable key (bad PEM,
unsupported key type or curve, wrong Multikey prefix or length); callers that handle
remote data map that to their own error.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fedinet.crypto._common import PrivateKey, PublicKey

__all__ = [
    "ED25519_MULTICODEC",
    "PrivateKey",
    "PublicKey",
    "b58decode",
    "b58encode",
    "ed25519_public_key_from_multibase",
    "ed25519_public_key_to_multibase",
    "generate_ed25519_keypair",
    "generate_rsa_keypair",
    "load_private_key",
    "load_public_key",
    "private_key_to_pem",
    "public_key_to_pem",
]

ED25519_MULTICODEC = b"\xed\x01"
"""Multicodec ``ed25519-pub`` (0xed) as an unsigned varint."""

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_CURVES = (ec.SECP256R1, ec.SECP384R1)
_MIN_RSA_BITS = 1024


def private_key_to_pem(key: PrivateKey) -> str:
    """PKCS#8 PEM, unencrypted."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKey | PrivateKey) -> str:
    """SubjectPublicKeyInfo PEM of a public key (or of a private key's public half)."""
    public = key.public_key() if isinstance(key, PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def generate_rsa_keypair(bits: int = 2048) -> tuple[str, str]:
    """A new RSA key pair as ``(private_pem, public_pem)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return private_key_to_pem(key), public_key_to_pem(key)


def generate_ed25519_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as ``(private_pem, public_pem)``."""
    key = ed25519.Ed25519PrivateKey.generate()
    return private_key_to_pem(key), public_key_to_pem(key)


def _check_supported(key: object) -> None:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ValueError(f"RSA key of {key.key_size} bits is too small")
    elif isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, _CURVES):
            raise ValueError(f"unsupported elliptic curve {key.curve.name}")
    elif not isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        raise ValueError(f"unsupported key type {type(key).__name__}")


def _as_bytes(pem: str | bytes) -> bytes:
    return pem.encode("ascii") if isinstance(pem, str) else pem


def load_private_key(pem: str | bytes, password: bytes | None = None) -> PrivateKey:
    """Load an RSA, Ed25519 or EC P-256/P-384 private key from PEM (PKCS#8 or PKCS#1/SEC1)."""
    try:
        key = serialization.load_pem_private_key(_as_bytes(pem), password=password)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a usable PEM private key: {exc}") from None
    _check_supported(key)
    assert isinstance(key, PrivateKey)
    return key


def load_public_key(pem: str | bytes) -> PublicKey:
    """Load an RSA, Ed25519 or EC P-256/P-384 public key from PEM (SPKI or PKCS#1)."""
    try:
        key = serialization.load_pem_public_key(_as_bytes(pem))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a usable PEM public key: {exc}") from None
    _check_supported(key)
    assert isinstance(key, PublicKey)
    return key


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet); each leading zero byte becomes a leading ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; ``ValueError`` on a character outside the alphabet."""
    number = 0
    for char in text:
        try:
            number = number * 58 + _B58_INDEX[char]
        except KeyError:
            raise ValueError(f"invalid base58 character {char!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def ed25519_public_key_to_multibase(key: ed25519.Ed25519PublicKey) -> str:
    """FEP-521a ``publicKeyMultibase``: ``z`` + base58btc(0xed 0x01 + 32 raw key bytes)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + b58encode(ED25519_MULTICODEC + raw)


def ed25519_public_key_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    """Decode a FEP-521a Ed25519 ``publicKeyMultibase``; ``ValueError`` if it is anything else."""
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must use base58btc (leading 'z')")
    data = b58decode(value[1:])
    if not data.startswith(ED25519_MULTICODEC):
        raise ValueError(
            "publicKeyMultibase is not an Ed25519 key (multicodec prefix is not 0xed01)"
        )
    if len(data) != len(ED25519_MULTICODEC) + 32:
        raise ValueError(f"Ed25519 publicKeyMultibase holds {len(data) - 2} key bytes, not 32")
    return ed25519.Ed25519PublicKey.from_public_bytes(data[len(ED25519_MULTICODEC) :])
