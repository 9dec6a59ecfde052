from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from fedinet.crypto import keys, rfc9421, sfv
from fedinet.crypto.digest import make_content_digest, verify_content_digest
from fedinet.errors import DigestMismatch, SignatureExpired, SignatureInvalid, SignatureMissing
from tests.crypto._vectors import http_message, request_url, text

CREATED = 1618884473
SECRET = base64.b64decode(text("rfc9421", "test-shared-secret"))


def _public(name: str) -> keys.PublicKey:
    return keys.load_public_key(text("rfc9421", name))


def _private(name: str) -> keys.PrivateKey:
    return keys.load_private_key(text("rfc9421", name))


# label, file stem, verification key, alg to use (the RFC examples carry no alg parameter)
RFC_CASES: list[tuple[str, str, Any, str]] = [
    ("sig-b21", "b21_request", _public("test-key-rsa-pss.pub"), "rsa-pss-sha512"),
    ("sig-b22", "b22_request", _public("test-key-rsa-pss.pub"), "rsa-pss-sha512"),
    ("sig-b23", "b23_request", _public("test-key-rsa-pss.pub"), "rsa-pss-sha512"),
    ("sig-b24", "b24_response", _public("test-key-ecc-p256.pub"), "ecdsa-p256-sha256"),
    ("sig-b25", "b25_request", SECRET, "hmac-sha256"),
    ("sig-b26", "b26_request", _public("test-key-ed25519.pub"), "ed25519"),
]


def _verify_case(
    label: str, stem: str, key: Any, alg: str | None, **kwargs: Any
) -> rfc9421.SignatureInput:
    start, headers, _body = http_message("rfc9421", f"{stem}_signed.txt")
    parsed = rfc9421.parse_signature(headers, label=label)
    kwargs.setdefault("now", CREATED)
    kwargs.setdefault("required_components", ())
    if stem.endswith("response"):
        rfc9421.verify_response(
            parsed, int(start.split()[1]), headers, key, algorithm=alg, **kwargs
        )
    else:
        method, url = request_url(start, headers)
        rfc9421.verify_request(parsed, method, url, headers, key, algorithm=alg, **kwargs)
    return parsed


@pytest.mark.parametrize(("label", "stem", "key", "alg"), RFC_CASES, ids=lambda c: str(c)[:7])
def test_rfc9421_signature_base_is_byte_exact(label: str, stem: str, key: Any, alg: str) -> None:
    start, headers, _ = http_message("rfc9421", f"{stem}_signed.txt")
    parsed = rfc9421.parse_signature(headers, label=label)
    if stem.endswith("response"):
        base = rfc9421.build_signature_base(parsed.params, headers, status=int(start.split()[1]))
    else:
        method, url = request_url(start, headers)
        base = rfc9421.build_signature_base(parsed.params, headers, method=method, url=url)
    assert base.encode() == text("rfc9421", f"{stem}_sigbase.txt").encode()


@pytest.mark.parametrize(("label", "stem", "key", "alg"), RFC_CASES, ids=lambda c: str(c)[:7])
def test_rfc9421_published_signatures_verify(label: str, stem: str, key: Any, alg: str) -> None:
    parsed = _verify_case(label, stem, key, alg)
    assert parsed.created == CREATED
    assert parsed.alg is None
    _verify_case(label, stem, key, None)  # algorithm inferred from the key


def test_rfc9421_b22_parameters() -> None:
    parsed = _verify_case("sig-b22", "b22_request", RFC_CASES[1][2], "rsa-pss-sha512")
    assert parsed.components == ("@authority", "content-digest", '"@query-param";name="Pet"')
    assert (parsed.keyid, parsed.tag, parsed.nonce) == ("test-key-rsa-pss", "header-example", None)


def test_rfc9421_b23_meets_the_default_requirements_and_checks_the_body() -> None:
    start, headers, body = http_message("rfc9421", "b23_request_signed.txt")
    parsed = rfc9421.parse_signature(headers)
    method, url = request_url(start, headers)
    key = _public("test-key-rsa-pss.pub")
    rfc9421.verify_request(parsed, method, url, headers, key, now=CREATED, body=body)
    with pytest.raises(DigestMismatch):
        rfc9421.verify_request(parsed, method, url, headers, key, now=CREATED, body=body + b"x")


def _unsigned_request(name: str = "rfc-test-request.txt") -> tuple[str, str, list[Any], bytes]:
    start, headers, body = http_message("rfc9421", name)
    method, url = request_url(start, headers)
    return method, url, headers, body


def test_rfc9421_ed25519_signing_reproduces_b26() -> None:
    method, url, headers, _ = _unsigned_request()
    sig_input, signature = rfc9421.sign_request(
        method,
        url,
        headers,
        key_id="test-key-ed25519",
        private_key=_private("test-key-ed25519.key"),
        algorithm="ed25519",
        components=("date", "@method", "@path", "@authority", "content-type", "content-length"),
        created=CREATED,
        label="sig-b26",
        include_alg=False,
    )
    _, signed, _ = http_message("rfc9421", "b26_request_signed.txt")
    assert ("Signature-Input", sig_input) in signed
    assert ("Signature", signature) in signed


def test_rfc9421_hmac_signing_reproduces_b25() -> None:
    method, url, headers, _ = _unsigned_request()
    sig_input, signature = rfc9421.sign_request(
        method,
        url,
        headers,
        key_id="test-shared-secret",
        private_key=SECRET,
        algorithm="hmac-sha256",
        components=("date", "@authority", "content-type"),
        created=datetime.fromtimestamp(CREATED, UTC),
        label="sig-b25",
        include_alg=False,
    )
    _, signed, _ = http_message("rfc9421", "b25_request_signed.txt")
    assert ("Signature-Input", sig_input) in signed
    assert ("Signature", signature) in signed


def test_rfc9421_b22_signature_input_reproduces() -> None:
    method, url, headers, _ = _unsigned_request()
    sig_input, _sig = rfc9421.sign_request(
        method,
        url,
        headers,
        key_id="test-key-rsa-pss",
        private_key=_private("test-key-rsa-pss.key"),
        algorithm="rsa-pss-sha512",
        components=("@authority", "content-digest", '"@query-param";name="Pet"'),
        created=CREATED,
        label="sig-b22",
        tag="header-example",
        include_alg=False,
    )
    _, signed, _ = http_message("rfc9421", "b22_request_signed.txt")
    assert ("Signature-Input", sig_input) in signed


def test_rfc9421_b24_response_signing_round_trip() -> None:
    _, headers, _ = http_message("rfc9421", "rfc-test-response.txt")
    sig_input, signature = rfc9421.sign_response(
        200,
        headers,
        key_id="test-key-ecc-p256",
        private_key=_private("test-key-ecc-p256.key"),
        algorithm="ecdsa-p256-sha256",
        components=("@status", "content-type", "content-digest", "content-length"),
        created=CREATED,
        label="sig-b24",
        include_alg=False,
    )
    _, signed, _ = http_message("rfc9421", "b24_response_signed.txt")
    assert ("Signature-Input", sig_input) in signed
    all_headers = [*headers, ("Signature-Input", sig_input), ("Signature", signature)]
    parsed = rfc9421.parse_signature(all_headers)
    assert len(parsed.signature) == 64  # raw r||s
    rfc9421.verify_response(parsed, 200, all_headers, _public("test-key-ecc-p256.pub"), now=CREATED)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        rfc9421.verify_response(
            parsed, 201, all_headers, _public("test-key-ecc-p256.pub"), now=CREATED
        )


def test_rfc9421_rsa_v15_signing_is_deterministic() -> None:
    method, url, headers, body = _unsigned_request()
    private = _private("key-rsa-v15.key")
    assert isinstance(private, rsa.RSAPrivateKey)
    args: dict[str, Any] = {
        "key_id": "test-key-rsa-v15",
        "private_key": private,
        "algorithm": "rsa-v1_5-sha256",
        "components": ("@method", "@target-uri", "content-digest"),
        "created": CREATED,
    }
    first = rfc9421.sign_request(method, url, headers, **args)
    assert rfc9421.sign_request(method, url, headers, **args) == first
    all_headers = [*headers, ("Signature-Input", first[0]), ("Signature", first[1])]
    parsed = rfc9421.parse_signature(all_headers)
    base = rfc9421.build_signature_base(parsed.params, headers, method=method, url=url)
    assert base.endswith(
        '"@signature-params": ("@method" "@target-uri" "content-digest")'
        f';created={CREATED};keyid="test-key-rsa-v15";alg="rsa-v1_5-sha256"'
    )
    expected = private.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert parsed.signature == expected
    rfc9421.verify_request(
        parsed, method, url, all_headers, _public("key-rsa-v15.pub"), now=CREATED, body=body
    )


# --- round trips for every algorithm ---------------------------------------------------

ROUND_TRIPS = [
    ("rsa-pss-sha512", "test-key-rsa-pss.key", "test-key-rsa-pss.pub"),
    ("rsa-v1_5-sha256", "test-key-rsa.key", "test-key-rsa.pub"),
    ("rsa-v1_5-sha256", "key-rsa-v15.key", "key-rsa-v15.pub"),
    ("ecdsa-p256-sha256", "test-key-ecc-p256.key", "test-key-ecc-p256.pub"),
    ("ecdsa-p384-sha384", "test-key-ecc-p384.key", "test-key-ecc-p384.pub"),
    ("ed25519", "test-key-ed25519.key", "test-key-ed25519.pub"),
    ("hmac-sha256", "test-shared-secret", "test-shared-secret"),
]


def _key_pair(private_name: str, public_name: str) -> tuple[Any, Any]:
    if private_name == "test-shared-secret":
        return SECRET, SECRET
    return _private(private_name), _public(public_name)


@pytest.mark.parametrize(("alg", "private_name", "public_name"), ROUND_TRIPS)
def test_round_trip(alg: str, private_name: str, public_name: str) -> None:
    private, public = _key_pair(private_name, public_name)
    body = b'{"type": "Create"}'
    url = "https://social.example/users/bob/inbox?x=1"
    headers = [("Host", "social.example"), ("Content-Digest", make_content_digest(body))]
    sig_input, signature = rfc9421.sign_request(
        "POST",
        url,
        headers,
        key_id="https://me.example/actor#key",
        private_key=private,
        algorithm=alg,
        components=("@method", "@target-uri", "content-digest"),
        created=CREATED,
        expires=CREATED + 300,
        nonce="n-1",
    )
    all_headers = [*headers, ("signature-input", sig_input), ("signature", signature)]
    parsed = rfc9421.parse_signature(all_headers)
    assert (parsed.label, parsed.alg, parsed.keyid) == ("sig1", alg, "https://me.example/actor#key")
    assert (parsed.expires, parsed.nonce) == (CREATED + 300, "n-1")
    rfc9421.verify_request(parsed, "POST", url, all_headers, public, now=CREATED + 10, body=body)


# --- the extra cases from the Go implementation -----------------------------------------


def test_go_bad_digest_is_rejected() -> None:
    _, headers, body = http_message("rfc9421", "request_bad_digest.txt")
    digest = dict(headers)["Content-Digest"]
    with pytest.raises(DigestMismatch, match="sha-512"):
        verify_content_digest(digest, body)
    _, _, good_body = http_message("rfc9421", "request1.txt")
    verify_content_digest(digest, good_body)


def test_go_bad_digest_fails_full_verification() -> None:
    method, url, headers, _ = _unsigned_request("request1.txt")
    sig = rfc9421.sign_request(
        method,
        url,
        headers,
        key_id="k",
        private_key=_private("test-key-ed25519.key"),
        algorithm="ed25519",
        components=("@method", "@authority", "@path", "content-digest"),
        created=CREATED,
    )
    _, _, bad_body = http_message("rfc9421", "request_bad_digest.txt")
    signed = [*headers, ("Signature-Input", sig[0]), ("Signature", sig[1])]
    parsed = rfc9421.parse_signature(signed)
    key = _public("test-key-ed25519.pub")
    with pytest.raises(DigestMismatch):
        rfc9421.verify_request(parsed, method, url, signed, key, now=CREATED, body=bad_body)


def test_go_no_digest_cannot_be_signed_with_content_digest() -> None:
    method, url, headers, _ = _unsigned_request("request_no_digest.txt")
    with pytest.raises(ValueError, match="'content-digest' is missing"):
        rfc9421.sign_request(
            method,
            url,
            headers,
            key_id="k",
            private_key=SECRET,
            algorithm="hmac-sha256",
            components=("@method", "content-digest"),
            created=CREATED,
        )


def test_go_multivalue_header_is_combined() -> None:
    method, url, headers, _ = _unsigned_request("request_multivalue.txt")
    params = sfv.InnerList((sfv.Item("one"), sfv.Item("@method")), {"created": CREATED})
    base = rfc9421.build_signature_base(params, headers, method=method, url=url)
    assert base.splitlines()[0] == '"one": multivalue1, multivalue2'


def test_go_repeated_components() -> None:
    method, url, headers, _ = _unsigned_request("request_repeated_components.txt")
    sig = rfc9421.sign_request(
        method,
        url,
        headers,
        key_id="k",
        private_key=SECRET,
        algorithm="hmac-sha256",
        components=("one", "two", "three", "@method", "@target-uri"),
        created=CREATED,
    )
    signed = [*headers, ("Signature-Input", sig[0]), ("Signature", sig[1])]
    parsed = rfc9421.parse_signature(signed)
    rfc9421.verify_request(parsed, method, url, signed, SECRET, now=CREATED)
    with pytest.raises(ValueError, match="covered twice"):
        rfc9421.sign_request(
            method,
            url,
            headers,
            key_id="k",
            private_key=SECRET,
            algorithm="hmac-sha256",
            components=("one", "two", "one"),
            created=CREATED,
        )
    doubled = [
        *headers,
        ("Signature-Input", 'sig1=("one" "one");created=1618884473'),
        ("Signature", sig[1]),
    ]
    with pytest.raises(SignatureInvalid, match="covered twice"):
        rfc9421.verify_request(
            rfc9421.parse_signature(doubled),
            method,
            url,
            doubled,
            SECRET,
            now=CREATED,
            required_components=(),
        )


def test_go_verify_request1_and_2() -> None:
    key = _public("test-key-rsa-pss.pub")
    start, headers, _ = http_message("rfc9421", "verify_request1.txt")
    method, url = request_url(start, headers)
    parsed = rfc9421.parse_signature(headers)
    assert parsed.label == "sig-b21"
    rfc9421.verify_request(parsed, method, url, headers, key, now=CREATED, required_components=())

    start, headers, _ = http_message("rfc9421", "verify_request2.txt")
    all_sigs = rfc9421.parse_signatures(headers)
    assert [s.label for s in all_sigs] == ["sig-b21", "bad-sig"]
    rfc9421.verify_request(
        rfc9421.parse_signature(headers),
        method,
        url,
        headers,
        key,
        now=CREATED,
        required_components=(),
    )
    bad = rfc9421.parse_signature(headers, label="bad-sig")
    with pytest.raises(SignatureInvalid, match="bad-sig does not verify"):
        rfc9421.verify_request(bad, method, url, headers, key, now=CREATED, required_components=())


# --- derived components ----------------------------------------------------------------


def _base(components: tuple[str, ...], url: str, headers: Any = (), method: str = "GET") -> str:
    items = tuple(rfc9421._component_item(c) for c in components)
    base = rfc9421.build_signature_base(sfv.InnerList(items), headers, method=method, url=url)
    return base.rsplit("\n", 1)[0]


def test_derived_components() -> None:
    url = "https://WWW.Example.com:8443/path/a%20b?q=1&r"
    components = (
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
    )
    assert _base(components, url, method="POST").splitlines() == [
        '"@method": POST',
        f'"@target-uri": {url}',
        '"@authority": www.example.com:8443',
        '"@scheme": https',
        '"@request-target": /path/a%20b?q=1&r',
        '"@path": /path/a%20b',
        '"@query": ?q=1&r',
    ]
    assert _base(("@authority", "@path", "@query"), "https://example.com:443") == (
        '"@authority": example.com\n"@path": /\n"@query": ?'
    )


def test_query_param_encoding_rfc_example() -> None:
    url = (
        "https://example.com/parameters?var=this%20is%20a%20big%0Avalue"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
    )
    components = (
        '"@query-param";name="var"',
        '"@query-param";name="bar"',
        '"@query-param";name="fa%C3%A7ade%22%3A%20"',
    )
    assert _base(components, url).splitlines() == [
        '"@query-param";name="var": this%20is%20a%20big%0Avalue',
        '"@query-param";name="bar": with%20plus%20whitespace',
        '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
    ]
    with pytest.raises(SignatureInvalid, match="absent"):
        _base(('"@query-param";name="nope"',), url)
    with pytest.raises(SignatureInvalid, match="repeated"):
        _base(('"@query-param";name="a"',), "https://e.example/?a=1&a=2")


def test_structured_field_parameters() -> None:
    headers = [("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"), ("X-Bin", "value")]
    components = (
        '"example-dict";sf',
        '"example-dict";key="a"',
        '"example-dict";key="b"',
        '"example-dict";key="c"',
        '"x-bin";bs',
        "example-dict",
    )
    assert _base(components, "https://e.example/", headers).splitlines() == [
        '"example-dict";sf: a=1, b=2;x=1;y=2, c=(a b c)',
        '"example-dict";key="a": 1',
        '"example-dict";key="b": 2;x=1;y=2',
        '"example-dict";key="c": (a b c)',
        '"x-bin";bs: :dmFsdWU=:',
        '"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c)',
    ]
    with pytest.raises(SignatureInvalid, match="member 'z'"):
        _base(('"example-dict";key="z"',), "https://e.example/", headers)
    with pytest.raises(SignatureInvalid, match="unsupported parameters"):
        _base(('"example-dict";req',), "https://e.example/", headers)


def test_status_and_request_components_are_not_mixed() -> None:
    with pytest.raises(SignatureInvalid, match="only be used on a response"):
        _base(("@status",), "https://e.example/")
    with pytest.raises(SignatureInvalid, match="only be used on a request"):
        rfc9421.build_signature_base(sfv.InnerList((sfv.Item("@method"),)), [], status=200)
    with pytest.raises(SignatureInvalid, match="unknown derived component"):
        _base(("@fragment",), "https://e.example/")
    with pytest.raises(SignatureInvalid, match="cannot be a covered component"):
        _base(("@signature-params",), "https://e.example/")


# --- one test per rejection reason -----------------------------------------------------

ED_KEY = ed25519.Ed25519PrivateKey.generate()
BODY = b'{"type": "Like"}'
URL = "https://b.example/inbox"


def _signed(**kwargs: Any) -> tuple[rfc9421.SignatureInput, list[tuple[str, str]]]:
    headers = kwargs.pop("headers", None)
    if headers is None:
        headers = [("Host", "b.example"), ("Content-Digest", make_content_digest(BODY))]
    kwargs.setdefault("components", ("@method", "@target-uri", "content-digest"))
    kwargs.setdefault("private_key", ED_KEY)
    kwargs.setdefault("algorithm", "ed25519")
    kwargs.setdefault("created", CREATED)
    sig_input, signature = rfc9421.sign_request("POST", URL, headers, key_id="k", **kwargs)
    all_headers = [*headers, ("Signature-Input", sig_input), ("Signature", signature)]
    return rfc9421.parse_signature(all_headers), all_headers


def _check(parsed: rfc9421.SignatureInput, headers: Any, **kwargs: Any) -> None:
    key = kwargs.pop("key", ED_KEY.public_key())
    kwargs.setdefault("now", CREATED)
    kwargs.setdefault("body", BODY)
    rfc9421.verify_request(parsed, kwargs.pop("method", "POST"), URL, headers, key, **kwargs)


def test_valid_baseline_with_datetime_now() -> None:
    parsed, headers = _signed()
    _check(parsed, headers, now=datetime.fromtimestamp(CREATED + 60, UTC))
    assert parsed.components == ("@method", "@target-uri", "content-digest")


def test_reject_missing_required_components() -> None:
    parsed, headers = _signed(components=("@method", "@authority", "content-digest"))
    with pytest.raises(SignatureInvalid, match="required components"):
        _check(parsed, headers)
    _check(parsed, headers, required_components=[{"@method", "@authority"}])
    with pytest.raises(TypeError):
        _check(parsed, headers, required_components={"@method"})


def test_reject_body_without_content_digest_covered() -> None:
    parsed, headers = _signed(components=("@method", "@target-uri"))
    with pytest.raises(SignatureInvalid, match="content-digest is not signed"):
        _check(parsed, headers)
    with pytest.raises(SignatureInvalid, match="content-digest is not signed"):
        _check(parsed, headers, body=None, has_body=True)
    _check(parsed, headers, body=None)


def test_reject_tampered_body() -> None:
    parsed, headers = _signed()
    with pytest.raises(DigestMismatch, match="does not match the Content-Digest"):
        _check(parsed, headers, body=BODY + b" ")


def test_reject_created_in_future() -> None:
    parsed, headers = _signed()
    with pytest.raises(SignatureExpired, match="in the future"):
        _check(parsed, headers, now=CREATED - 3601)
    _check(parsed, headers, now=CREATED - 3600)


def test_reject_created_too_old() -> None:
    parsed, headers = _signed()
    with pytest.raises(SignatureExpired, match="too old"):
        _check(parsed, headers, now=CREATED + 301, max_age=timedelta(minutes=5))


def test_reject_expires_passed() -> None:
    parsed, headers = _signed(expires=CREATED + 60)
    _check(parsed, headers, now=CREATED + 60)
    with pytest.raises(SignatureExpired, match="expired 1 s ago"):
        _check(parsed, headers, now=CREATED + 61)


def test_reject_missing_created() -> None:
    parsed, headers = _signed()
    params = sfv.InnerList(parsed.params.items, {"keyid": "k"})
    no_created = replace(parsed, created=None, params=params)
    with pytest.raises(SignatureInvalid, match="no created parameter"):
        _check(no_created, headers)


def test_reject_alg_key_type_mismatch() -> None:
    parsed, headers = _signed()  # alg="ed25519"
    rsa_key = _public("test-key-rsa-pss.pub")
    with pytest.raises(SignatureInvalid, match="'ed25519' does not match the RSA key"):
        _check(parsed, headers, key=rsa_key)
    with pytest.raises(SignatureInvalid, match="does not match the shared-secret key"):
        _check(parsed, headers, key=SECRET)
    p384 = _public("test-key-ecc-p384.pub")
    parsed_ec, headers_ec = _signed(
        private_key=_private("test-key-ecc-p256.key"), algorithm="ecdsa-p256-sha256"
    )
    with pytest.raises(SignatureInvalid, match="does not match the EC secp384r1 key"):
        _check(parsed_ec, headers_ec, key=p384)
    with pytest.raises(ValueError, match="does not match"):
        _signed(algorithm="rsa-pss-sha512")


def test_reject_expected_algorithm_conflict() -> None:
    parsed, headers = _signed()
    with pytest.raises(SignatureInvalid, match="differs from the expected"):
        _check(parsed, headers, algorithm="rsa-pss-sha512")


def test_reject_unknown_algorithm() -> None:
    parsed, headers = _signed()
    with pytest.raises(SignatureInvalid, match="unsupported signature algorithm 'rsa-sha1'"):
        _check(replace(parsed, alg="rsa-sha1"), headers)


def test_reject_tampered_signature_and_message() -> None:
    parsed, headers = _signed()
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    with pytest.raises(SignatureInvalid, match="does not verify"):
        _check(replace(parsed, signature=flipped), headers)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        _check(parsed, headers, method="PUT")
    parsed_ec, headers_ec = _signed(
        private_key=_private("test-key-ecc-p256.key"), algorithm="ecdsa-p256-sha256"
    )
    with pytest.raises(SignatureInvalid, match="does not verify"):
        _check(
            replace(parsed_ec, signature=parsed_ec.signature[:63]),
            headers_ec,
            key=_public("test-key-ecc-p256.pub"),
        )


def test_ecdsa_signature_is_raw_not_der() -> None:
    parsed, headers = _signed(
        private_key=_private("test-key-ecc-p256.key"), algorithm="ecdsa-p256-sha256"
    )
    assert len(parsed.signature) == 64
    key = _public("test-key-ecc-p256.pub")
    assert isinstance(key, ec.EllipticCurvePublicKey)
    _check(parsed, headers, key=key)


def test_missing_headers_and_labels() -> None:
    with pytest.raises(SignatureMissing, match="no Signature-Input"):
        rfc9421.parse_signature([("Host", "b.example")])
    _parsed, headers = _signed()
    with pytest.raises(SignatureMissing, match="no signature labelled 'sig9'"):
        rfc9421.parse_signature(headers, label="sig9")


@pytest.mark.parametrize(
    ("sig_input", "signature", "message"),
    [
        ('sig1=("@method";created=1', "sig1=:AAAA:", "malformed"),
        ("sig1=:AAAA:", "sig1=:AAAA:", "not an inner list"),
        ('sig1=("@method");created=1', 'sig1="AAAA"', "not a byte sequence"),
        ('sig1=("@method");created=1', "sig2=:AAAA:", "no matching Signature"),
        ('sig1=("@method");created="1"', "sig1=:AAAA:", "wrong type"),
        ('sig1=("@method");keyid=1', "sig1=:AAAA:", "wrong type"),
        ("sig1=(method);created=1", "sig1=:AAAA:", "non-string component"),
        ('Sig1=("@method")', "Sig1=:AAAA:", "malformed"),
        ('sig1=("@method"), ', "sig1=:AAAA:", "malformed"),
        ("sig1=();created=1", "sig1=:AA AA:", "malformed"),
    ],
)
def test_malformed_signature_headers(sig_input: str, signature: str, message: str) -> None:
    headers = [("Signature-Input", sig_input), ("Signature", signature)]
    with pytest.raises(SignatureInvalid, match=message):
        rfc9421.parse_signatures(headers)
