from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fedinet.crypto import cavage, keys
from fedinet.crypto.digest import make_digest
from fedinet.errors import (
    DigestMismatch,
    SignatureExpired,
    SignatureInvalid,
)
from tests.crypto._vectors import load_json, text

# --- draft-cavage-http-signatures-12 Appendix C ---------------------------------------

CAVAGE = load_json("cavage12", "cavage12_vectors.json")
CAVAGE_PRIVATE = keys.load_private_key(text("cavage12", "test_key_private.pem"))
CAVAGE_PUBLIC = keys.load_public_key(text("cavage12", "test_key_public.pem"))
CAVAGE_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)


def _cavage_request() -> tuple[str, str, dict[str, str], bytes]:
    req = CAVAGE["request"]
    return req["method"], req["path"], req["headers"], req["body"].encode()


@pytest.mark.parametrize("vector", CAVAGE["vectors"], ids=lambda v: v["name"][:3])
def test_cavage_appendix_c(vector: dict[str, Any]) -> None:
    method, path, headers, body = _cavage_request()
    parsed = cavage.parse_signature_header(vector["signature_header"])
    expected_headers = (vector["headers_param"] or "date").split()
    assert parsed.headers == tuple(expected_headers)
    assert parsed.key_id == "Test"
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.signature == base64.b64decode(vector["signature"])
    signing_string = cavage.build_signing_string(parsed.headers, method, path, headers)
    assert signing_string == vector["signing_string"]
    header = cavage.sign_request(
        method,
        path,
        headers,
        key_id="Test",
        private_key=CAVAGE_PRIVATE,
        signed_headers=parsed.headers if vector["headers_param"] else ("date",),
    )
    assert cavage.parse_signature_header(header).signature == parsed.signature
    if vector["headers_param"]:
        assert header == vector["signature_header"]
    cavage.verify_request(
        parsed,
        method,
        path,
        headers,
        CAVAGE_PUBLIC,
        now=CAVAGE_NOW,
        required_headers=(),
        body=body if "digest" in parsed.headers else None,
    )


def test_cavage_c3_erratum_with_created_and_expires() -> None:
    method, path, headers, _ = _cavage_request()
    c3 = CAVAGE["c3_with_created_expires"]
    names = ["(request-target)", "(created)", "(expires)", "host", "date"]
    names += ["content-type", "digest", "content-length"]
    signing_string = cavage.build_signing_string(
        names, method, path, headers, created=1402170695, expires=1402170699
    )
    assert signing_string == c3["signing_string"]
    header = cavage.sign_request(
        method,
        path,
        headers,
        key_id="Test",
        private_key=CAVAGE_PRIVATE,
        signed_headers=names,
        created=1402170695,
        expires=1402170699,
    )
    parsed = cavage.parse_signature_header(header)
    assert (parsed.created, parsed.expires) == (1402170695, 1402170699)
    assert base64.b64encode(parsed.signature).decode() == c3["signature_computed_here"]
    # The signature printed in the draft for C.3 does not cover (created)/(expires).
    published = CAVAGE["vectors"][2]["signature"]
    assert published != c3["signature_computed_here"]
    cavage.verify_request(
        parsed,
        method,
        path,
        headers,
        CAVAGE_PUBLIC,
        now=datetime(2014, 6, 7, 19, 51, 37, tzinfo=UTC),
        max_skew=timedelta(days=200),
    )


# --- Mastodon's signature_verification_spec.rb ----------------------------------------

MASTODON = load_json("mastodon", "mastodon_signature_vectors.json")
BOB_PUBLIC = keys.load_public_key(MASTODON["public_key_pem"])
BOB_PRIVATE = keys.load_private_key(text("mastodon", MASTODON["private_key_file"]))
MASTODON_NOW = datetime.fromisoformat(MASTODON["verifier_clock"])

MASTODON_EXPECTED: dict[str, type[Exception] | None] = {
    "get_valid": None,
    "get_query_valid": None,
    "get_query_not_signed_compat_quirk": None,
    "get_query_mismatch": SignatureInvalid,
    "get_path_mismatch": SignatureInvalid,
    "method_mismatch": SignatureInvalid,
    "unparsable_date": SignatureInvalid,
    "date_too_old": SignatureExpired,
    "post_valid": None,
    "post_digest_not_signed": SignatureInvalid,
    "post_tampered_body": DigestMismatch,
    "post_path_mismatch": SignatureInvalid,
}


def test_every_mastodon_vector_has_an_expectation() -> None:
    assert {v["name"] for v in MASTODON["vectors"]} == set(MASTODON_EXPECTED)


@pytest.mark.parametrize("vector", MASTODON["vectors"], ids=lambda v: v["name"])
def test_mastodon_vector(vector: dict[str, Any]) -> None:
    expected = MASTODON_EXPECTED[vector["name"]]
    assert (expected is None) == (vector["expect"] == "valid")
    parsed = cavage.parse_signature_header(vector["signature_header"])
    assert parsed.key_id == MASTODON["key_id"]
    signed_method, signed_target = vector["signed_request_target"].split(" ", 1)
    assert (
        cavage.build_signing_string(parsed.headers, signed_method, signed_target, vector["headers"])
        == vector["signing_string"]
    )
    body = vector["body"].encode() if vector["body"] is not None else None

    def verify() -> None:
        cavage.verify_request(
            parsed,
            vector["method"],
            vector["path"],
            vector["headers"],
            BOB_PUBLIC,
            now=MASTODON_NOW,
            body=body,
        )

    if expected is None:
        verify()
    else:
        with pytest.raises(expected):
            verify()


@pytest.mark.parametrize(
    "vector",
    [v for v in MASTODON["vectors"] if v["expect"] == "valid"],
    ids=lambda v: v["name"],
)
def test_mastodon_signatures_reproduce(vector: dict[str, Any]) -> None:
    signed_method, signed_target = vector["signed_request_target"].split(" ", 1)
    parsed = cavage.parse_signature_header(vector["signature_header"])
    header = cavage.sign_request(
        signed_method.upper(),
        f"https://{vector['host']}{signed_target}",
        vector["headers"],
        key_id=MASTODON["key_id"],
        private_key=BOB_PRIVATE,
        signed_headers=parsed.headers,
    )
    assert header == vector["signature_header"]


def test_mastodon_query_quirk_can_be_disabled() -> None:
    vector = next(
        v for v in MASTODON["vectors"] if v["name"] == "get_query_not_signed_compat_quirk"
    )
    parsed = cavage.parse_signature_header(vector["signature_header"])
    with pytest.raises(SignatureInvalid, match="does not match"):
        cavage.verify_request(
            parsed,
            "GET",
            vector["path"],
            vector["headers"],
            BOB_PUBLIC,
            now=MASTODON_NOW,
            allow_unsigned_query=False,
        )


# --- signing and one test per rejection reason -----------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
DATE = "Wed, 01 May 2024 12:00:00 GMT"
URL = "https://remote.example/users/alice/inbox"
BODY = b'{"type": "Follow"}'
ED_PRIVATE = ed25519.Ed25519PrivateKey.generate()
ED_PUBLIC = ED_PRIVATE.public_key()
RSA_PRIVATE = BOB_PRIVATE
RSA_PUBLIC = BOB_PUBLIC


def _post_headers(**extra: str) -> dict[str, str]:
    headers = {"Date": DATE, "Digest": make_digest(BODY), "Content-Type": "application/json"}
    headers.update(extra)
    return headers


def _signed_post(**kwargs: Any) -> tuple[cavage.ParsedSignature, dict[str, str]]:
    headers = kwargs.pop("headers", None) or _post_headers()
    kwargs.setdefault("private_key", RSA_PRIVATE)
    value = cavage.sign_request("POST", URL, headers, key_id="k", **kwargs)
    return cavage.parse_signature_header(value), {**headers, "Host": "remote.example"}


def _verify(parsed: cavage.ParsedSignature, headers: Any, **kwargs: Any) -> None:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("body", BODY)
    key = kwargs.pop("key", RSA_PUBLIC)
    method = kwargs.pop("method", "POST")
    cavage.verify_request(parsed, method, "/users/alice/inbox", headers, key, **kwargs)


def test_sign_defaults_and_host_from_url() -> None:
    parsed, headers = _signed_post()
    assert parsed.headers == ("(request-target)", "host", "date", "digest")
    assert parsed.algorithm == "rsa-sha256"
    _verify(parsed, headers)


def test_headers_as_pairs_with_mixed_case_names() -> None:
    parsed, headers = _signed_post()
    pairs = [(name.upper(), value) for name, value in headers.items()]
    _verify(parsed, pairs)


def test_repeated_header_values_are_joined() -> None:
    pairs = [("Host", "a.example"), ("Date", DATE), ("X-Thing", " one "), ("x-thing", "two")]
    text_ = cavage.build_signing_string(["x-thing"], "GET", "/", pairs)
    assert text_ == "x-thing: one, two"


def test_hs2019_ed25519_round_trip_with_created_and_expires() -> None:
    created = int(NOW.timestamp())
    parsed, headers = _signed_post(
        private_key=ED_PRIVATE,
        algorithm="hs2019",
        signed_headers=("(request-target)", "(created)", "(expires)", "host", "digest"),
        created=created,
        expires=created + 300,
    )
    assert parsed.algorithm == "hs2019"
    _verify(parsed, headers, key=ED_PUBLIC)
    _verify(parsed, headers, key=ED_PUBLIC, now=created)  # int timestamps work too


def test_hs2019_rsa_accepts_pkcs1_and_pss_sha512() -> None:
    parsed, headers = _signed_post(algorithm="hs2019")
    _verify(parsed, headers)
    signing_string = cavage.build_signing_string(
        parsed.headers, "POST", "/users/alice/inbox", headers
    )
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    assert isinstance(RSA_PRIVATE, rsa.RSAPrivateKey)
    pss_signature = RSA_PRIVATE.sign(signing_string.encode(), pss, hashes.SHA512())
    _verify(replace(parsed, signature=pss_signature), headers)
    with pytest.raises(SignatureInvalid, match="does not match"):
        _verify(replace(parsed, signature=pss_signature, algorithm="rsa-sha256"), headers)


def test_authorization_header_form_and_missing_algorithm() -> None:
    parsed = cavage.parse_signature_header(
        'Signature keyId="k",headers="date",signature="AAAA",created="1"'
    )
    assert (parsed.algorithm, parsed.headers, parsed.created) == ("hs2019", ("date",), 1)


def test_reject_request_target_not_signed() -> None:
    parsed, headers = _signed_post(signed_headers=("host", "date", "digest"))
    with pytest.raises(SignatureInvalid, match=r"required '\(request-target\)'"):
        _verify(parsed, headers)


def test_reject_digest_not_signed_when_body() -> None:
    parsed, headers = _signed_post(signed_headers=("(request-target)", "host", "date"))
    with pytest.raises(SignatureInvalid, match="Digest header is not signed"):
        _verify(parsed, headers)
    with pytest.raises(SignatureInvalid, match="Digest header is not signed"):
        _verify(parsed, headers, body=None, has_body=True)


def test_reject_neither_date_nor_created_signed() -> None:
    parsed, headers = _signed_post(signed_headers=("(request-target)", "host", "digest"))
    with pytest.raises(SignatureInvalid, match="neither the Date header nor"):
        _verify(parsed, headers)


def test_reject_date_header_missing() -> None:
    parsed, headers = _signed_post()
    del headers["Date"]
    with pytest.raises(SignatureInvalid, match="Date header is signed but missing"):
        _verify(parsed, headers)


def test_reject_signed_header_missing() -> None:
    parsed, headers = _signed_post()
    del headers["Digest"]
    with pytest.raises(SignatureInvalid, match="'digest' is missing"):
        _verify(parsed, headers, body=None)


def test_reject_unparsable_date() -> None:
    parsed, headers = _signed_post(headers=_post_headers(Date="yesterday"))
    with pytest.raises(SignatureInvalid, match="not a valid HTTP date"):
        _verify(parsed, headers)


def test_reject_date_too_old() -> None:
    parsed, headers = _signed_post()
    with pytest.raises(SignatureExpired, match="in the past"):
        _verify(parsed, headers, now=NOW + timedelta(hours=12, seconds=1))
    _verify(parsed, headers, now=NOW + timedelta(hours=12))


def test_reject_date_in_future() -> None:
    parsed, headers = _signed_post()
    with pytest.raises(SignatureExpired, match="in the future"):
        _verify(parsed, headers, now=NOW - timedelta(minutes=6), max_skew=timedelta(minutes=5))


def test_reject_created_outside_window() -> None:
    created = int(NOW.timestamp())
    parsed, headers = _signed_post(
        private_key=ED_PRIVATE,
        algorithm="hs2019",
        signed_headers=("(request-target)", "(created)", "host", "digest"),
        created=created,
    )
    with pytest.raises(SignatureExpired, match=r"\(created\) is 3600 s in the future"):
        _verify(parsed, headers, key=ED_PUBLIC, now=created - 3600, max_skew=timedelta(0))
    with pytest.raises(SignatureExpired, match=r"\(created\) is .* in the past"):
        _verify(parsed, headers, key=ED_PUBLIC, now=created + 13 * 3600)


def test_reject_created_signed_but_absent() -> None:
    parsed = cavage.parse_signature_header(
        'keyId="k",algorithm="hs2019",headers="(request-target) (created) host",signature="AA=="'
    )
    with pytest.raises(SignatureInvalid, match="created parameter is absent"):
        _verify(parsed, {"Host": "h"}, key=ED_PUBLIC, body=None)


def test_reject_expires_passed() -> None:
    created = int(NOW.timestamp())
    parsed, headers = _signed_post(
        private_key=ED_PRIVATE,
        algorithm="hs2019",
        signed_headers=("(request-target)", "(created)", "(expires)", "host", "digest"),
        created=created,
        expires=created + 60,
    )
    with pytest.raises(SignatureExpired, match="expired 1 s ago"):
        _verify(parsed, headers, key=ED_PUBLIC, now=created + 61)


def test_reject_wrong_key_type() -> None:
    parsed, headers = _signed_post()  # rsa-sha256
    with pytest.raises(SignatureInvalid, match="'rsa-sha256' does not match the actor's Ed25519"):
        _verify(parsed, headers, key=ED_PUBLIC)
    ed_parsed, ed_headers = _signed_post(private_key=ED_PRIVATE, algorithm="ed25519")
    with pytest.raises(SignatureInvalid, match="'ed25519' does not match the actor's RSA"):
        _verify(ed_parsed, ed_headers)
    _verify(ed_parsed, ed_headers, key=ED_PUBLIC)


def test_sign_refuses_algorithm_key_mismatch_and_bad_key_id() -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        _signed_post(private_key=ED_PRIVATE, algorithm="rsa-sha256")
    with pytest.raises(ValueError, match="key_id"):
        cavage.sign_request("GET", URL, {"Date": DATE}, key_id='a",b', private_key=ED_PRIVATE)


def test_reject_unknown_algorithm() -> None:
    parsed, headers = _signed_post()
    with pytest.raises(SignatureInvalid, match="unsupported signature algorithm 'hmac-sha256'"):
        _verify(replace(parsed, algorithm="hmac-sha256"), headers)


def test_reject_tampered_body() -> None:
    parsed, headers = _signed_post()
    with pytest.raises(DigestMismatch, match="does not match the Digest"):
        _verify(parsed, headers, body=BODY + b" ")


def test_reject_tampered_signature_and_header() -> None:
    parsed, headers = _signed_post()
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    with pytest.raises(SignatureInvalid, match="verification failed"):
        _verify(replace(parsed, signature=flipped), headers)
    with pytest.raises(SignatureInvalid, match="verification failed"):
        _verify(parsed, {**headers, "Host": "evil.example"})
    with pytest.raises(SignatureInvalid, match="verification failed"):
        _verify(parsed, headers, method="PUT")


def test_naive_now_is_refused() -> None:
    parsed, headers = _signed_post()
    with pytest.raises(ValueError, match="timezone-aware"):
        _verify(parsed, headers, now=datetime(2024, 5, 1, 12, 0, 0))


def test_body_without_any_digest_header_is_rejected() -> None:
    parsed, headers = _signed_post(headers={"Date": DATE})
    assert "digest" not in parsed.headers
    with pytest.raises(SignatureInvalid, match="Digest header is not signed"):
        _verify(parsed, headers)
    _verify(parsed, headers, body=None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('algorithm="rsa-sha256",headers="date",signature="AAAA"', "no keyId"),
        ('keyId="k",algorithm="rsa-sha256",headers="date"', "no signature"),
        ('keyId="k",signature=""', "no signature"),
        ('keyId="k",signature="not base64!"', "not valid base64"),
        ('keyId="k",signature="AAAA\u00e9AAA"', "not valid base64"),  # not ASCII
        ('keyId="k",signature="AAA"', "not valid base64"),  # bad padding
        ('keyId="k",signature="AA==AA=="', "not valid base64"),  # data after padding
        ('keyId="k",headers="",signature="AAAA"', "empty headers"),
        ('keyId="k",keyId="j",signature="AAAA"', "repeats"),
        ('keyId="k",signature="AAAA",created=soon', "not an integer"),
        ('keyId="k",signature="AAAA",expires="1.5"', "not an integer"),
        ('keyId="k" signature="AAAA"', "malformed"),
        ('keyId="k,signature="AAAA"', "malformed"),
        ("garbage", "malformed"),
        ("", "no keyId"),
    ],
)
def test_malformed_signature_headers(value: str, message: str) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        cavage.parse_signature_header(value)
