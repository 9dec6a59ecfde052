"""The inbox against signing code that is not fedinet's.

A real ``fedinet serve`` receives activities signed by two independent libraries, as
another server would sign them: ``http-message-signatures`` (pyauth's RFC 9421
implementation) and ``httpsig`` (a draft-cavage implementation). The keys belong to a
test peer on loopback that serves the actor document, so fedinet fetches and checks
them as it would any remote key. Valid requests must be accepted; tampered ones refused
with the right status and reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpsig
import httpx
import pytest
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from fedinet.crypto.digest import make_digest
from fedinet.crypto.keys import load_private_key
from tests.conftest import DatabaseFactory
from tests.helpers.remote import RemoteAccount, RemoteServer
from tests.helpers.servers import ServerProcess

AP = "application/activity+json"


@pytest.fixture(scope="module")
def remote() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        server.add_account("walter")
        yield server


@pytest.fixture(scope="module")
def fedinet(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("interop")
    env = {
        "FEDINET_DATABASE_URL": module_database(),
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
        "FEDINET_WORKERS_IN_WEB": "false",
    }
    server = ServerProcess(env, log=tmp / "serve.log").start()
    try:
        yield server
    finally:
        server.stop()


def activity_body(account: RemoteAccount, **extra: Any) -> bytes:
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{account.uri}/activities/{uuid.uuid4()}",
        "type": "Like",
        "actor": account.uri,
        "object": "https://example.invalid/notes/1",
        **extra,
    }
    return json.dumps(doc).encode()


def reason(response: httpx.Response) -> str:
    return str(response.json()["reason"])


# -- RFC 9421, signed by http-message-signatures ------------------------------------------


@dataclass
class _Message:
    """What http-message-signatures signs: method, absolute URL and mutable headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


RFC9421_COMPONENTS = ("@method", "@target-uri", "@authority", "@path")

RFC9421_ALGORITHMS = {
    "rsa-v1_5-sha256": (algorithms.RSA_V1_5_SHA256, "rsa"),
    "rsa-pss-sha512": (algorithms.RSA_PSS_SHA512, "rsa"),
    "ed25519": (algorithms.ED25519, "ed25519"),
}


def rfc9421_headers(
    account: RemoteAccount,
    url: str,
    body: bytes,
    alg: str,
    *,
    components: tuple[str, ...] = RFC9421_COMPONENTS,
    created: datetime | None = None,
    expires: datetime | None = None,
) -> dict[str, str]:
    algorithm, kind = RFC9421_ALGORITHMS[alg]
    key_id = account.main_key_id if kind == "rsa" else account.ed_key_id
    private = load_private_key(account.rsa_private if kind == "rsa" else account.ed_private)
    message = _Message("POST", url, {"Host": urlsplit(url).netloc, "Content-Type": AP})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(private_keys={key_id: private}, public_keys={}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created or datetime.now(UTC),
        expires=expires,
        covered_component_ids=components,
        body=body,  # adds Content-Digest (RFC 9530) and covers it
    )
    return message.headers


@pytest.mark.parametrize("alg", sorted(RFC9421_ALGORITHMS))
def test_rfc9421_requests_from_another_library_are_accepted(
    fedinet: ServerProcess, remote: RemoteServer, alg: str
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    response = httpx.post(url, content=body, headers=rfc9421_headers(walter, url, body, alg))
    assert response.status_code == 202, response.text


def test_rfc9421_tampered_body_is_refused(fedinet: ServerProcess, remote: RemoteServer) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = rfc9421_headers(walter, url, body, "ed25519")
    forged = body.replace(b'"Like"', b'"Undo"')
    response = httpx.post(url, content=forged, headers=headers)
    assert response.status_code == 400, response.text
    assert reason(response) == "digest_mismatch"


def test_rfc9421_tampered_signature_is_refused(
    fedinet: ServerProcess, remote: RemoteServer
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = rfc9421_headers(walter, url, body, "rsa-v1_5-sha256")
    label, _, value = headers["Signature"].partition("=:")
    flipped = ("B" if value[0] == "A" else "A") + value[1:]
    headers["Signature"] = f"{label}=:{flipped}"
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_invalid"


def test_rfc9421_signature_for_another_target_is_refused(
    fedinet: ServerProcess, remote: RemoteServer
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    signed_for = fedinet.url + "/users/someone/inbox"
    headers = rfc9421_headers(walter, signed_for, body, "rsa-pss-sha512")
    response = httpx.post(fedinet.url + "/inbox", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_invalid"


def test_rfc9421_expired_signature_is_refused(fedinet: ServerProcess, remote: RemoteServer) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    then = datetime.now(UTC) - timedelta(hours=1)
    headers = rfc9421_headers(
        walter, url, body, "ed25519", created=then, expires=then + timedelta(minutes=5)
    )
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_expired"


def test_rfc9421_signer_who_is_not_the_actor_is_refused(
    fedinet: ServerProcess, remote: RemoteServer
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter, actor=f"{remote.base_url}/users/somebody-else")
    url = fedinet.url + "/inbox"
    response = httpx.post(url, content=body, headers=rfc9421_headers(walter, url, body, "ed25519"))
    assert response.status_code == 403, response.text
    assert reason(response) == "actor_mismatch"


# -- draft-cavage, signed by httpsig ------------------------------------------------------


def cavage_headers(
    account: RemoteAccount,
    url: str,
    body: bytes,
    *,
    sign_header: str = "signature",
    signed: tuple[str, ...] = ("(request-target)", "host", "date", "digest"),
    date: datetime | None = None,
) -> dict[str, str]:
    parts = urlsplit(url)
    headers = {
        "Host": parts.netloc,
        "Date": format_datetime(date or datetime.now(UTC), usegmt=True),
        "Content-Type": AP,
        "Digest": make_digest(body),
    }
    signer = httpsig.HeaderSigner(
        key_id=account.main_key_id,
        secret=account.rsa_private.encode(),
        algorithm="rsa-sha256",
        headers=list(signed),
        sign_header=sign_header,
    )
    signed_headers: dict[str, str] = signer.sign(headers, method="POST", path=parts.path)
    return signed_headers


@pytest.mark.parametrize("sign_header", ["signature", "authorization"])
def test_cavage_requests_from_another_library_are_accepted(
    fedinet: ServerProcess, remote: RemoteServer, sign_header: str
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = cavage_headers(walter, url, body, sign_header=sign_header)
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 202, response.text


def test_cavage_tampered_body_is_refused(fedinet: ServerProcess, remote: RemoteServer) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = cavage_headers(walter, url, body)
    response = httpx.post(url, content=body.replace(b'"Like"', b'"Undo"'), headers=headers)
    assert response.status_code == 400, response.text
    assert reason(response) == "digest_mismatch"


def test_cavage_tampered_digest_is_refused(fedinet: ServerProcess, remote: RemoteServer) -> None:
    # Body and Digest both replaced: the digest matches the body, but it was not signed.
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = cavage_headers(walter, url, body)
    forged = body.replace(b'"Like"', b'"Undo"')
    headers["digest"] = make_digest(forged)
    response = httpx.post(url, content=forged, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_invalid"


def test_cavage_without_signed_digest_is_refused(
    fedinet: ServerProcess, remote: RemoteServer
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = cavage_headers(walter, url, body, signed=("(request-target)", "host", "date"))
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_invalid"


def test_cavage_stale_date_is_refused(fedinet: ServerProcess, remote: RemoteServer) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    url = fedinet.url + "/inbox"
    headers = cavage_headers(walter, url, body, date=datetime.now(UTC) - timedelta(hours=13))
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_expired"


def test_cavage_signature_for_another_path_is_refused(
    fedinet: ServerProcess, remote: RemoteServer
) -> None:
    walter = remote.accounts["walter"]
    body = activity_body(walter)
    headers = cavage_headers(walter, fedinet.url + "/users/someone/inbox", body)
    response = httpx.post(fedinet.url + "/inbox", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert reason(response) == "signature_invalid"
