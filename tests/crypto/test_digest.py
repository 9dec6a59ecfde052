from __future__ import annotations

import base64
import hashlib

import pytest

from fedinet.crypto.digest import (
    make_content_digest,
    make_digest,
    verify_content_digest,
    verify_digest,
)
from fedinet.errors import DigestMismatch

BODY = b'{"hello": "world"}'
SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="  # draft-cavage C / RFC 9530 example
SHA512 = "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="


def test_make_digest_matches_the_published_values() -> None:
    assert make_digest(BODY) == f"SHA-256={SHA256}"
    assert make_digest(BODY, "sha-512") == f"SHA-512={SHA512}"
    with pytest.raises(ValueError, match="unsupported"):
        make_digest(BODY, "MD5")


@pytest.mark.parametrize(
    "header",
    [
        f"SHA-256={SHA256}",
        f"sha-256={SHA256}",
        f"SHA-512={SHA512}",
        f"SHA-256={SHA256},SHA-512={SHA512}",
        f"MD5=abc, SHA-256={SHA256}",
        f"  unixsum=30637 ,  sha-256={SHA256} ",
    ],
)
def test_verify_digest_accepts(header: str) -> None:
    verify_digest(header, BODY)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (f"SHA-256={SHA256}", "does not match"),  # checked against a tampered body below
        ("MD5=Sd/dVLAcvNLSq16eXua5uQ==", "no supported algorithm"),
        ("", "no supported algorithm"),
        (f"SHA-256={SHA256}, SHA-512=AAAA", "does not match"),
        ("SHA-256=not base64!", "not valid base64"),
        ("SHA-256=AAAA\u00e9AAA", "not valid base64"),  # not ASCII
        ("SHA-256", "malformed"),
    ],
)
def test_verify_digest_rejects(header: str, message: str) -> None:
    with pytest.raises(DigestMismatch, match=message):
        verify_digest(header, BODY + b" ")


def test_content_digest_produce_and_verify() -> None:
    assert make_content_digest(BODY) == f"sha-256=:{SHA256}:"
    both = make_content_digest(BODY, ("sha-256", "sha-512"))
    assert both == f"sha-256=:{SHA256}:, sha-512=:{SHA512}:"
    verify_content_digest(both, BODY)
    verify_content_digest(f"sha-512=:{SHA512}:;foo=1, md5=:AAAA:", BODY)
    with pytest.raises(ValueError, match="unsupported"):
        make_content_digest(BODY, ("md5",))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (f"sha-256=:{SHA256}:", "does not match"),
        (f"sha-256=:{SHA256}:, sha-512=:{SHA256}:", "does not match"),
        ("md5=:Sd/dVLAcvNLSq16eXua5uQ==:", "no supported algorithm"),
        (f"SHA-256=:{SHA256}:", "malformed"),
        (f"sha-256={SHA256}", "malformed"),
        ('sha-256="abc"', "not a byte sequence"),
        ("sha-256=(:AAAA:)", "not a byte sequence"),
    ],
)
def test_content_digest_rejects(header: str, message: str) -> None:
    body = BODY + b"!" if message == "does not match" else BODY
    with pytest.raises(DigestMismatch, match=message):
        verify_content_digest(header, body)


def test_content_digest_sha512_value_is_base64_of_hashlib() -> None:
    expected = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    assert expected == SHA512
