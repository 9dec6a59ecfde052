from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fedinet.crypto import keys
from tests.crypto._vectors import text


def test_generate_rsa_keypair_pem_round_trip() -> None:
    private_pem, public_pem = keys.generate_rsa_keypair()
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    private = keys.load_private_key(private_pem)
    public = keys.load_public_key(public_pem)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert isinstance(public, rsa.RSAPublicKey)
    assert private.key_size == 2048
    assert keys.public_key_to_pem(private) == public_pem


def test_generate_ed25519_keypair_pem_round_trip() -> None:
    private_pem, public_pem = keys.generate_ed25519_keypair()
    private = keys.load_private_key(private_pem.encode())
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert isinstance(keys.load_public_key(public_pem), ed25519.Ed25519PublicKey)
    assert keys.private_key_to_pem(private) == private_pem


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("test-key-rsa.pub", rsa.RSAPublicKey),  # PKCS#1 "RSA PUBLIC KEY"
        ("test-key-rsa-pss.pub", rsa.RSAPublicKey),
        ("test-key-ecc-p256.pub", ec.EllipticCurvePublicKey),
        ("test-key-ecc-p384.pub", ec.EllipticCurvePublicKey),
        ("test-key-ed25519.pub", ed25519.Ed25519PublicKey),
    ],
)
def test_load_public_keys_of_every_type(name: str, kind: type) -> None:
    assert isinstance(keys.load_public_key(text("rfc9421", name)), kind)


@pytest.mark.parametrize(
    "name",
    ["test-key-rsa.key", "test-key-rsa-pss.key", "test-key-ecc-p256.key", "test-key-ed25519.key"],
)
def test_load_private_keys_of_every_type(name: str) -> None:
    keys.load_private_key(text("rfc9421", name))


def test_load_rejects_garbage_and_unsupported_curves() -> None:
    with pytest.raises(ValueError, match="PEM public key"):
        keys.load_public_key("not a key")
    with pytest.raises(ValueError, match="PEM private key"):
        keys.load_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    k1 = ec.generate_private_key(ec.SECP256K1())
    with pytest.raises(ValueError, match="unsupported elliptic curve"):
        keys.load_public_key(keys.public_key_to_pem(k1))


def test_base58_known_values_and_leading_zeros() -> None:
    assert keys.b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    fox = b"The quick brown fox jumps over the lazy dog."
    assert keys.b58encode(fox) == "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"
    for data in (b"", b"\0", b"\0\0\x01\x02", bytes(range(256))):
        assert keys.b58decode(keys.b58encode(data)) == data
    assert keys.b58encode(b"\0\0\x01") == "112"
    with pytest.raises(ValueError, match="invalid base58"):
        keys.b58decode("0OIl")


def test_multikey_round_trip() -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    value = keys.ed25519_public_key_to_multibase(key)
    assert value.startswith("z6Mk")  # every Ed25519 Multikey starts so
    decoded = keys.ed25519_public_key_from_multibase(value)
    assert decoded.public_bytes_raw() == key.public_bytes_raw()


def test_multikey_of_the_rfc9421_ed25519_test_key() -> None:
    key = keys.load_public_key(text("rfc9421", "test-key-ed25519.pub"))
    assert isinstance(key, ed25519.Ed25519PublicKey)
    value = keys.ed25519_public_key_to_multibase(key)
    assert keys.b58decode(value[1:]) == b"\xed\x01" + key.public_bytes_raw()


def test_multikey_rejects_wrong_prefix_base_and_length() -> None:
    raw = bytes(32)
    with pytest.raises(ValueError, match="base58btc"):
        keys.ed25519_public_key_from_multibase("u" + keys.b58encode(b"\xed\x01" + raw))
    with pytest.raises(ValueError, match="multicodec prefix"):
        # 0x1200 (P-256) as varint, then 33 bytes
        keys.ed25519_public_key_from_multibase("z" + keys.b58encode(b"\x80\x24" + bytes(33)))
    with pytest.raises(ValueError, match="not 32"):
        keys.ed25519_public_key_from_multibase("z" + keys.b58encode(b"\xed\x01" + raw[:31]))
    with pytest.raises(ValueError, match="invalid base58"):
        keys.ed25519_public_key_from_multibase("z0000")
