"""HTTP signatures, digests and keys for federation. Pure functions: no I/O, no clock."""

from __future__ import annotations

from fedinet.crypto import cavage, rfc9421
from fedinet.crypto._common import HeaderMap, header_map
from fedinet.crypto.digest import (
    make_content_digest,
    make_digest,
    verify_content_digest,
    verify_digest,
)
from fedinet.crypto.keys import (
    PrivateKey,
    PublicKey,
    ed25519_public_key_from_multibase,
    ed25519_public_key_to_multibase,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
    public_key_to_pem,
)

__all__ = [
    "HeaderMap",
    "PrivateKey",
    "PublicKey",
    "cavage",
    "ed25519_public_key_from_multibase",
    "ed25519_public_key_to_multibase",
    "generate_ed25519_keypair",
    "generate_rsa_keypair",
    "header_map",
    "load_private_key",
    "load_public_key",
    "make_content_digest",
    "make_digest",
    "public_key_to_pem",
    "rfc9421",
    "verify_content_digest",
    "verify_digest",
]
