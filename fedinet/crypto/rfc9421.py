"""RFC 9421 HTTP Message Signatures (``Signature-Input`` / ``Signature``).

Verification is two-step so no key resolver is needed here: :func:`parse_signature` gives the
parameters (``keyid``, ``alg``, ``created`` …) so the caller can fetch the key, then
:func:`verify_request` (or :func:`verify_response`) checks the signature with that key.
Component identifiers are written as in the header: ``"@method"`` or ``@method``,
``content-digest``, ``"@query-param";name="Pet"``, ``"example-dict";key="a"``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, unquote_plus, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from fedinet.crypto import sfv
from fedinet.crypto._common import (
    HeadersLike,
    PrivateKey,
    PublicKey,
    Timestamp,
    combined_value,
    header_map,
    to_timestamp,
)
from fedinet.crypto.digest import verify_content_digest
from fedinet.errors import SignatureExpired, SignatureInvalid, SignatureMissing

__all__ = [
    "ALGORITHMS",
    "DEFAULT_REQUIRED_COMPONENTS",
    "SignatureInput",
    "build_signature_base",
    "parse_signature",
    "parse_signatures",
    "sign_request",
    "sign_response",
    "verify_request",
    "verify_response",
]

ALGORITHMS = (
    "rsa-pss-sha512",
    "rsa-v1_5-sha256",
    "hmac-sha256",
    "ecdsa-p256-sha256",
    "ecdsa-p384-sha384",
    "ed25519",
)
"""Registered algorithm names this module signs and verifies."""

DEFAULT_REQUIRED_COMPONENTS: tuple[frozenset[str], ...] = (
    frozenset({"@method", "@target-uri"}),
    frozenset({"@method", "@authority", "@path"}),
)
"""A request signature must cover every name of at least one of these groups."""

_DERIVED = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
        "@status",
    }
)
_CURVE_FOR_ALG = {"ecdsa-p256-sha256": ("secp256r1", 32), "ecdsa-p384-sha384": ("secp384r1", 48)}


@dataclass(frozen=True)
class SignatureInput:
    """One labelled signature: its covered components, parameters and signature bytes."""

    label: str
    components: tuple[str, ...]
    keyid: str | None
    alg: str | None
    created: int | None
    expires: int | None
    nonce: str | None
    tag: str | None
    signature: bytes
    params: sfv.InnerList
    """The ``Signature-Input`` member as received; it is what ``@signature-params`` repeats."""

    @property
    def component_names(self) -> frozenset[str]:
        """Covered component names without their parameters."""
        return frozenset(str(item.value) for item in self.params.items)


@dataclass(frozen=True)
class _Message:
    headers: dict[str, list[str]]
    method: str | None = None
    url: str | None = None
    status: int | None = None


# --- component identifiers and values -------------------------------------------------


def _component_item(component: str | sfv.Item) -> sfv.Item:
    if isinstance(component, sfv.Item):
        return component
    text = component.strip()
    if text.startswith('"'):
        try:
            return sfv.parse_item(text)
        except ValueError as exc:
            raise ValueError(f"bad component identifier {component!r}: {exc}") from None
    return sfv.Item(text.lower())


def _identifier(item: sfv.Item) -> str:
    return sfv.serialize_item(item)


def _display(item: sfv.Item) -> str:
    return str(item.value) if not item.params else _identifier(item)


def _query_encode(text: str) -> str:
    return quote(text, safe="*").replace("~", "%7E")


def _authority(message: _Message) -> str:
    if message.url and "://" in message.url:
        parts = urlsplit(message.url)
        host = (parts.hostname or "").lower()
        if ":" in host:
            host = f"[{host}]"
        default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
        if parts.port is not None and parts.port != default_port:
            host = f"{host}:{parts.port}"
        return host
    hosts = message.headers.get("host")
    if not hosts:
        raise SignatureInvalid("@authority needs an absolute URL or a Host header")
    return hosts[-1].strip().lower()


def _derived_value(item: sfv.Item, message: _Message) -> str:
    name = str(item.value)
    allowed = {"name"} if name == "@query-param" else set()
    if set(item.params) - allowed:
        raise SignatureInvalid(f"unsupported parameters on component {_identifier(item)}")
    if name == "@status":
        if message.status is None:
            raise SignatureInvalid("@status can only be used on a response")
        return f"{message.status:03d}"
    if message.method is None or message.url is None:
        raise SignatureInvalid(f"{name} can only be used on a request")
    parts = urlsplit(message.url)
    path = parts.path or "/"
    if name == "@method":
        return message.method
    if name == "@target-uri":
        if not parts.scheme:
            raise SignatureInvalid("@target-uri needs an absolute URL")
        return message.url
    if name == "@authority":
        return _authority(message)
    if name == "@scheme":
        if not parts.scheme:
            raise SignatureInvalid("@scheme needs an absolute URL")
        return parts.scheme.lower()
    if name == "@path":
        return path
    if name == "@query":
        return f"?{parts.query}"
    if name == "@request-target":
        return path + (f"?{parts.query}" if parts.query else "")
    # @query-param
    wanted = item.params.get("name")
    if not isinstance(wanted, str):
        raise SignatureInvalid("@query-param needs a string name parameter")
    values = []
    for pair in parts.query.split("&") if parts.query else []:
        key, _, value = pair.partition("=")
        if _query_encode(unquote_plus(key)) == wanted:
            values.append(_query_encode(unquote_plus(value)))
    if len(values) != 1:
        state = "absent from" if not values else "repeated in"
        raise SignatureInvalid(f"query parameter {wanted!r} is {state} the request")
    return values[0]


def _field_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")  # the usual str view of raw field bytes
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _reserialize(name: str, value: str) -> str:
    """Strict re-serialisation for ``;sf``: the field's type is the first that parses."""
    try:
        return sfv.serialize_dictionary(sfv.parse_dictionary(value))
    except ValueError:
        pass
    try:
        return sfv.serialize_list(sfv.parse_list(value))
    except ValueError:
        pass
    try:
        return sfv.serialize_item(sfv.parse_item(value))
    except ValueError as exc:
        raise SignatureInvalid(f"{name!r} is not a valid structured field: {exc}") from None


def _field_value(item: sfv.Item, message: _Message) -> str:
    name = str(item.value)
    params = item.params
    if set(params) - {"sf", "key", "bs"}:
        raise SignatureInvalid(f"unsupported parameters on component {_identifier(item)}")
    values = message.headers.get(name)
    if values is None:
        raise SignatureInvalid(f"covered component {name!r} is missing from the message")
    if params.get("bs") is True:
        if "sf" in params or "key" in params:
            raise SignatureInvalid(f"bs cannot be combined with sf or key on {name!r}")
        return ", ".join(sfv.serialize_bare_item(_field_bytes(combined_value([v]))) for v in values)
    combined = combined_value(values)
    if "sf" not in params and "key" not in params:
        return combined
    key = params.get("key")
    if key is None:
        return _reserialize(name, combined)
    try:
        members = sfv.parse_dictionary(combined)
    except ValueError as exc:
        raise SignatureInvalid(f"{name!r} is not a structured dictionary: {exc}") from None
    if not isinstance(key, str) or key not in members:
        raise SignatureInvalid(f"dictionary member {key!r} of {name!r} is missing")
    return sfv.serialize_member(members[key])


def _build_base(params: sfv.InnerList, message: _Message) -> str:
    lines: list[str] = []
    seen: set[str] = set()
    for item in params.items:
        if not isinstance(item.value, str):
            raise SignatureInvalid("a covered component identifier is not a string")
        ident = _identifier(item)
        if ident in seen:
            raise SignatureInvalid(f"component {ident} is covered twice")
        seen.add(ident)
        name = item.value
        if name == "@signature-params":
            raise SignatureInvalid("@signature-params cannot be a covered component")
        if name.startswith("@"):
            if name not in _DERIVED:
                raise SignatureInvalid(f"unknown derived component {name!r}")
            value = _derived_value(item, message)
        else:
            if name != name.lower():
                raise SignatureInvalid(f"component name {name!r} must be lower-case")
            value = _field_value(item, message)
        if "\n" in value or "\r" in value:
            raise SignatureInvalid(f"value of {ident} contains a line break")
        lines.append(f"{ident}: {value}")
    lines.append(f'"@signature-params": {sfv.serialize_member(params)}')
    return "\n".join(lines)


def build_signature_base(
    params: sfv.InnerList,
    headers: HeadersLike,
    *,
    method: str | None = None,
    url: str | None = None,
    status: int | None = None,
) -> str:
    """The signature base for ``params`` (a Signature-Input member) over a request or response."""
    return _build_base(params, _Message(header_map(headers), method, url, status))


# --- algorithms ------------------------------------------------------------------------


def _key_kind(key: object) -> str:
    if isinstance(key, bytes):
        return "shared-secret"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "Ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def _key_fits(alg: str, key: object) -> bool:
    if alg.startswith("rsa-"):
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    if alg == "ed25519":
        return isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)
    if alg == "hmac-sha256":
        return isinstance(key, bytes)
    curve = _CURVE_FOR_ALG[alg][0]
    return isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and (
        key.curve.name == curve
    )


def _check_alg(alg: str, key: object) -> None:
    if alg not in ALGORITHMS:
        raise SignatureInvalid(f"unsupported signature algorithm {alg!r}")
    if not _key_fits(alg, key):
        raise SignatureInvalid(f"algorithm {alg!r} does not match the {_key_kind(key)} key")


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def _sign(alg: str, key: PrivateKey | bytes, data: bytes) -> bytes:
    if isinstance(key, bytes):
        return hmac.new(key, data, hashlib.sha256).digest()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        if alg == "rsa-pss-sha512":
            return key.sign(data, _pss(), hashes.SHA512())
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    size = _CURVE_FOR_ALG[alg][1]
    hash_alg: hashes.HashAlgorithm = hashes.SHA256() if size == 32 else hashes.SHA384()
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_alg)))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _verify(alg: str, key: PublicKey | bytes, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, bytes):
            expected = hmac.new(key, data, hashlib.sha256).digest()
            return hmac.compare_digest(expected, signature)
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, rsa.RSAPublicKey):
            if alg == "rsa-pss-sha512":
                key.verify(signature, data, _pss(), hashes.SHA512())
            else:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            size = _CURVE_FOR_ALG[alg][1]
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            hash_alg: hashes.HashAlgorithm = hashes.SHA256() if size == 32 else hashes.SHA384()
            key.verify(der, data, ec.ECDSA(hash_alg))
    except InvalidSignature:
        return False
    return True


def _candidate_algs(key: PublicKey | bytes) -> list[str]:
    if isinstance(key, rsa.RSAPublicKey):
        return ["rsa-v1_5-sha256", "rsa-pss-sha512"]
    if isinstance(key, bytes):
        return ["hmac-sha256"]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ["ed25519"]
    for alg, (curve, _) in _CURVE_FOR_ALG.items():
        if key.curve.name == curve:
            return [alg]
    raise SignatureInvalid(f"no algorithm for a {_key_kind(key)} key")


# --- signing ---------------------------------------------------------------------------


def _sign_message(
    message: _Message,
    *,
    key_id: str,
    private_key: PrivateKey | bytes,
    algorithm: str,
    components: Sequence[str | sfv.Item],
    created: Timestamp,
    expires: Timestamp | None,
    label: str,
    nonce: str | None,
    tag: str | None,
    include_alg: bool,
) -> tuple[str, str]:
    try:
        _check_alg(algorithm, private_key)
    except SignatureInvalid as exc:
        raise ValueError(str(exc)) from None
    params: sfv.Params = {"created": to_timestamp(created)}
    if expires is not None:
        params["expires"] = to_timestamp(expires)
    params["keyid"] = key_id
    if include_alg:
        params["alg"] = algorithm
    if nonce is not None:
        params["nonce"] = nonce
    if tag is not None:
        params["tag"] = tag
    inner = sfv.InnerList(tuple(_component_item(c) for c in components), params)
    try:
        base = _build_base(inner, message)
    except SignatureInvalid as exc:
        raise ValueError(f"cannot sign: {exc}") from None
    signature = _sign(algorithm, private_key, base.encode("utf-8"))
    return (
        sfv.serialize_dictionary({label: inner}),
        sfv.serialize_dictionary({label: sfv.Item(signature)}),
    )


def sign_request(
    method: str,
    url: str,
    headers: HeadersLike,
    *,
    key_id: str,
    private_key: PrivateKey | bytes,
    algorithm: str,
    components: Sequence[str | sfv.Item],
    created: Timestamp,
    expires: Timestamp | None = None,
    label: str = "sig1",
    nonce: str | None = None,
    tag: str | None = None,
    include_alg: bool = True,
) -> tuple[str, str]:
    """Sign a request; return the ``(Signature-Input, Signature)`` header values.

    ``private_key`` is ``bytes`` for ``hmac-sha256``. Parameters are written in the order
    created, expires, keyid, alg, nonce, tag. A component missing from the request, or a key
    that does not fit ``algorithm``, raises ``ValueError``.
    """
    message = _Message(header_map(headers), method, url)
    return _sign_message(
        message,
        key_id=key_id,
        private_key=private_key,
        algorithm=algorithm,
        components=components,
        created=created,
        expires=expires,
        label=label,
        nonce=nonce,
        tag=tag,
        include_alg=include_alg,
    )


def sign_response(
    status: int,
    headers: HeadersLike,
    *,
    key_id: str,
    private_key: PrivateKey | bytes,
    algorithm: str,
    components: Sequence[str | sfv.Item],
    created: Timestamp,
    expires: Timestamp | None = None,
    label: str = "sig1",
    nonce: str | None = None,
    tag: str | None = None,
    include_alg: bool = True,
) -> tuple[str, str]:
    """Sign a response (``@status`` and header fields); same conventions as :func:`sign_request`."""
    message = _Message(header_map(headers), status=status)
    return _sign_message(
        message,
        key_id=key_id,
        private_key=private_key,
        algorithm=algorithm,
        components=components,
        created=created,
        expires=expires,
        label=label,
        nonce=nonce,
        tag=tag,
        include_alg=include_alg,
    )


# --- parsing and verifying -------------------------------------------------------------


def _opt(params: sfv.Params, name: str, kind: type) -> object:
    value = params.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise SignatureInvalid(f"signature parameter {name} has the wrong type")
    return value


def _to_input(label: str, member: sfv.Member, signature: sfv.Member) -> SignatureInput:
    if not isinstance(member, sfv.InnerList):
        raise SignatureInvalid(f"Signature-Input {label} is not an inner list")
    if not isinstance(signature, sfv.Item) or not isinstance(signature.value, bytes):
        raise SignatureInvalid(f"Signature {label} is not a byte sequence")
    for item in member.items:
        if not isinstance(item.value, str):
            raise SignatureInvalid(f"Signature-Input {label} has a non-string component")
    p = member.params
    created, expires = _opt(p, "created", int), _opt(p, "expires", int)
    keyid, alg = _opt(p, "keyid", str), _opt(p, "alg", str)
    nonce, tag = _opt(p, "nonce", str), _opt(p, "tag", str)
    assert created is None or isinstance(created, int)
    assert expires is None or isinstance(expires, int)
    assert keyid is None or isinstance(keyid, str)
    assert alg is None or isinstance(alg, str)
    assert nonce is None or isinstance(nonce, str)
    assert tag is None or isinstance(tag, str)
    return SignatureInput(
        label=label,
        components=tuple(_display(item) for item in member.items),
        keyid=keyid,
        alg=alg,
        created=created,
        expires=expires,
        nonce=nonce,
        tag=tag,
        signature=signature.value,
        params=member,
    )


def parse_signatures(headers: HeadersLike) -> list[SignatureInput]:
    """Every labelled signature of a message, in ``Signature-Input`` order.

    No Signature-Input or Signature header -> SignatureMissing; malformed -> SignatureInvalid.
    """
    grouped = header_map(headers)
    if "signature-input" not in grouped or "signature" not in grouped:
        raise SignatureMissing("the message has no Signature-Input and Signature headers")
    try:
        inputs = sfv.parse_dictionary(", ".join(grouped["signature-input"]))
        signatures = sfv.parse_dictionary(", ".join(grouped["signature"]))
    except ValueError as exc:
        raise SignatureInvalid(f"malformed Signature-Input or Signature header: {exc}") from None
    result = []
    for label, member in inputs.items():
        if label not in signatures:
            raise SignatureInvalid(f"Signature-Input {label} has no matching Signature")
        result.append(_to_input(label, member, signatures[label]))
    if not result:
        raise SignatureMissing("the Signature-Input header is empty")
    return result


def parse_signature(headers: HeadersLike, *, label: str | None = None) -> SignatureInput:
    """The signature labelled ``label`` (default: the first one) -> SignatureMissing if absent."""
    signatures = parse_signatures(headers)
    if label is None:
        return signatures[0]
    for candidate in signatures:
        if candidate.label == label:
            return candidate
    raise SignatureMissing(f"no signature labelled {label!r}")


def _check_required(parsed: SignatureInput, groups: Iterable[Iterable[str]]) -> None:
    if isinstance(groups, str) or any(isinstance(g, str) for g in groups):
        raise TypeError("required_components is a collection of groups (sets) of names")
    sets = [frozenset(g) for g in groups]
    covered = parsed.component_names
    if sets and not any(g <= covered for g in sets):
        wanted = " or ".join("+".join(sorted(g)) for g in sets)
        raise SignatureInvalid(f"the signature does not cover the required components ({wanted})")


def _check_times(
    parsed: SignatureInput, now: int, max_age: timedelta, max_skew: timedelta, require: bool
) -> None:
    if parsed.created is None:
        if require:
            raise SignatureInvalid("the signature has no created parameter")
    elif parsed.created > now + max_skew.total_seconds():
        raise SignatureExpired(f"the signature was created {parsed.created - now} s in the future")
    elif parsed.created < now - max_age.total_seconds():
        raise SignatureExpired(f"the signature was created {now - parsed.created} s ago, too old")
    if parsed.expires is not None and parsed.expires < now:
        raise SignatureExpired(f"the signature expired {now - parsed.expires} s ago")


def _verify_message(
    parsed: SignatureInput,
    message: _Message,
    key: PublicKey | bytes,
    *,
    now: Timestamp,
    max_age: timedelta,
    max_skew: timedelta,
    required_components: Iterable[Iterable[str]],
    has_body: bool,
    body: bytes | None,
    algorithm: str | None,
    require_created: bool,
) -> None:
    _check_required(parsed, required_components)
    has_body = has_body or bool(body)
    if has_body and "content-digest" not in parsed.component_names:
        raise SignatureInvalid("the message has a body but content-digest is not signed")
    if parsed.alg is not None and algorithm is not None and parsed.alg != algorithm:
        raise SignatureInvalid(f"alg {parsed.alg!r} differs from the expected {algorithm!r}")
    chosen = parsed.alg or algorithm
    if chosen is not None:
        _check_alg(chosen, key)
        candidates = [chosen]
    else:
        candidates = _candidate_algs(key)
    _check_times(parsed, to_timestamp(now), max_age, max_skew, require_created)
    data = _build_base(parsed.params, message).encode("utf-8")
    if not any(_verify(alg, key, parsed.signature, data) for alg in candidates):
        raise SignatureInvalid(f"signature {parsed.label} does not verify")
    if body is not None and has_body:
        digests = message.headers.get("content-digest")
        if digests is None:
            raise SignatureMissing("the message has a body but no Content-Digest header")
        verify_content_digest(combined_value(digests), body)


def verify_request(
    parsed: SignatureInput,
    method: str,
    url: str,
    headers: HeadersLike,
    key: PublicKey | bytes,
    *,
    now: Timestamp,
    max_age: timedelta = timedelta(hours=12),
    max_skew: timedelta = timedelta(hours=1),
    required_components: Iterable[Iterable[str]] = DEFAULT_REQUIRED_COMPONENTS,
    has_body: bool = False,
    body: bytes | None = None,
    algorithm: str | None = None,
    require_created: bool = True,
) -> None:
    """Verify ``parsed`` over a request (``url`` absolute); return ``None`` or raise.

    ``required_components``: groups of names, one of which must be fully covered (empty:
    no requirement). With ``has_body`` (implied by a non-empty ``body``) ``content-digest``
    must be covered, and ``body`` is checked against it. Without an ``alg`` parameter the
    algorithm is ``algorithm`` or, failing that, follows from the key (RSA: v1.5 SHA-256,
    then PSS SHA-512). ``created`` may be ``max_skew`` ahead of ``now`` and ``max_age`` old.
    """
    _verify_message(
        parsed,
        _Message(header_map(headers), method, url),
        key,
        now=now,
        max_age=max_age,
        max_skew=max_skew,
        required_components=required_components,
        has_body=has_body,
        body=body,
        algorithm=algorithm,
        require_created=require_created,
    )


def verify_response(
    parsed: SignatureInput,
    status: int,
    headers: HeadersLike,
    key: PublicKey | bytes,
    *,
    now: Timestamp,
    max_age: timedelta = timedelta(hours=12),
    max_skew: timedelta = timedelta(hours=1),
    required_components: Iterable[Iterable[str]] = (),
    has_body: bool = False,
    body: bytes | None = None,
    algorithm: str | None = None,
    require_created: bool = True,
) -> None:
    """Verify ``parsed`` over a response; same rules as :func:`verify_request`."""
    _verify_message(
        parsed,
        _Message(header_map(headers), status=status),
        key,
        now=now,
        max_age=max_age,
        max_skew=max_skew,
        required_components=required_components,
        has_body=has_body,
        body=body,
        algorithm=algorithm,
        require_created=require_created,
    )
