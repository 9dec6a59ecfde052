"""Two instances federate over real TLS, behind Caddy configured from ``deploy/Caddyfile``.

Caddy (Debian's package) terminates TLS for ``a.fedinet.test`` on 127.0.0.2 and
``b.fedinet.test`` on 127.0.0.3, with certificates from its internal CA, and proxies to
two ``fedinet serve`` processes on 127.0.0.1. Nothing reaches the internet: no ACME
(``local_certs``), no trust-store installation, no admin endpoint, no HTTP/3.

How the names resolve, without touching ``/etc/hosts``: each fedinet gets
``FEDINET_RESOLVE`` (a documented test-only setting: ``host=IP`` pairs answered before
DNS, still vetted by the SSRF guard), and the test's own client maps them in its
network backend. Each fedinet trusts Caddy's root certificate through ``SSL_CERT_FILE``
and Caddy's address through ``FEDINET_TRUSTED_PROXIES``.

The members' own requests leave from 127.0.0.9: that the instances log ``client=127.0.0.9``
proves that Caddy's ``X-Forwarded-For`` is believed from the trusted proxy.

Port 443 is used when it can be bound (CI runs as root); otherwise a free port, which
then appears in the URLs and domains.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from tests.conftest import DatabaseFactory
from tests.helpers.cluster import Instance, eventually, follow_and_accept
from tests.helpers.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
HOSTS = {"a.fedinet.test": "127.0.0.2", "b.fedinet.test": "127.0.0.3"}
MEMBERS_FROM = "127.0.0.9"
METRICS_TOKEN = "tls-test-metrics-token-0123456789"

# The test's global options: local CA only, nothing installed, nothing reachable but
# the two sites.
GLOBAL_OPTIONS = """{{
	admin off
	auto_https disable_redirects
	local_certs
	skip_install_trust
	ocsp_stapling off
	http_port {http_port}
	https_port {https_port}
	servers {{
		protocols h1 h2
	}}
}}
"""


def caddy_binary() -> str:
    found = shutil.which("caddy") or ("/usr/bin/caddy" if Path("/usr/bin/caddy").exists() else None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("caddy is not installed, and CI must run the TLS federation test")
    pytest.skip("caddy is not installed (apt-get install caddy)")


def https_port() -> int:
    """443 if this process may bind it on the test addresses, else a free port."""
    for port in (443, free_port()):
        try:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((HOSTS["a.fedinet.test"], port))
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((HOSTS["b.fedinet.test"], port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port to listen on for the test sites")


def caddyfile(upstreams: dict[str, int], port: int) -> str:
    """deploy/Caddyfile's site block once per host: its placeholders filled in, plus
    ``bind`` (the host's loopback address) and ``tls internal``."""
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    opening = "{$FEDINET_DOMAIN:localhost} {"
    site = text[text.index(opening) :]
    for placeholder in ("{$FEDINET_UPSTREAM_HOST:web}", "{$FEDINET_UPSTREAM_PORT:8000}"):
        assert placeholder in site, f"deploy/Caddyfile no longer uses {placeholder}"
    out = GLOBAL_OPTIONS.format(http_port=free_port(), https_port=port)
    for host, upstream_port in upstreams.items():
        block = site.replace(opening, f"{host} {{\n\tbind {HOSTS[host]}\n\ttls internal", 1)
        block = block.replace("{$FEDINET_UPSTREAM_HOST:web}", "127.0.0.1")
        block = block.replace("{$FEDINET_UPSTREAM_PORT:8000}", str(upstream_port))
        out += "\n" + block
    return out


class _Resolving(httpcore.SyncBackend):
    """Connects to the test hosts' addresses; TLS still checks the host name."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(
            HOSTS.get(host, host), port, timeout, local_address, socket_options
        )


class MembersTransport(httpx.HTTPTransport):
    """The members' client: test names resolved, Caddy's root trusted, from 127.0.0.9."""

    def __init__(self, root_cert: Path) -> None:
        context = ssl.create_default_context(cafile=str(root_cert))
        super().__init__(verify=context)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            local_address=MEMBERS_FROM,
            network_backend=_Resolving(),
        )


class Caddy:
    def __init__(self, workdir: Path, config: str) -> None:
        self.workdir = workdir
        (workdir / "Caddyfile").write_text(config)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir / "home"),
            "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_CONFIG_HOME": str(workdir / "config"),
        }
        self.root_cert = workdir / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        self.log_path = workdir / "caddy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [caddy_binary(), "run", "--adapter", "caddyfile", "--config", "Caddyfile"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"caddy exited:\n{self.log()}")
            if self.root_cert.exists() and self._serving(port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"caddy did not start serving:\n{self.log()}")

    def _serving(self, port: int) -> bool:
        context = ssl.create_default_context(cafile=str(self.root_cert))
        for host, ip in HOSTS.items():
            try:
                with (
                    socket.create_connection((ip, port), timeout=1) as raw,
                    context.wrap_socket(raw, server_hostname=host),
                ):
                    pass
            except (OSError, ssl.SSLError):
                return False
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def behind_caddy(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance, Caddy]]:
    caddy_binary()
    workdir = tmp_path_factory.mktemp("tls")
    port = https_port()
    suffix = "" if port == 443 else f":{port}"
    upstreams = {host: free_port() for host in HOSTS}
    caddy = Caddy(workdir, caddyfile(upstreams, port))
    caddy.start(port)
    transport = MembersTransport(caddy.root_cert)
    resolve = ",".join(f"{host}={ip}" for host, ip in HOSTS.items())
    instances = []
    try:
        for host, upstream_port in upstreams.items():
            name = host.split(".")[0]
            (workdir / name).mkdir()
            url = f"https://{host}{suffix}"
            instance = Instance(
                name,
                module_database(),
                workdir / name,
                {
                    "FEDINET_URL": url,
                    "FEDINET_RESOLVE": resolve,
                    "FEDINET_TRUSTED_PROXIES": "127.0.0.1",
                    "SSL_CERT_FILE": str(caddy.root_cert),
                    "FEDINET_METRICS_TOKEN": METRICS_TOKEN,
                },
                port=upstream_port,
                public_url=url,
                transport=transport,
            )
            instances.append(instance)
            instance.start()
        a, b = instances
        yield a, b, caddy
    finally:
        for instance in instances:
            instance.stop()
        caddy.stop()
        transport.close()


def test_webfinger_answers_https_ids_through_the_proxy(
    behind_caddy: tuple[Instance, Instance, Caddy],
) -> None:
    a, _b, _caddy = behind_caddy
    a.member("carol")
    with a.http() as http:
        response = http.get(
            f"{a.url}/.well-known/webfinger", params={"resource": f"acct:carol@{a.domain}"}
        )
    assert response.status_code == 200, response.text
    assert response.url.scheme == "https"
    links = [link["href"] for link in response.json()["links"] if link.get("rel") == "self"]
    assert links == [f"{a.url}/users/carol"]
    assert links[0].startswith("https://a.fedinet.test")


def test_follow_and_post_federate_over_https(
    behind_caddy: tuple[Instance, Instance, Caddy],
) -> None:
    a, b, _caddy = behind_caddy
    alice, bob = a.member("alice"), b.member("bob")

    # B looks alice up (WebFinger + actor over HTTPS), follows with a note; A's member
    # accepts, and the Accept travels back over HTTPS.
    account = follow_and_accept(bob, alice)
    assert account["acct"] == alice.acct == f"alice@{a.domain}"

    post = alice.post("/api/v1/statuses", status="hello over TLS", visibility="public")
    assert post["uri"].startswith(f"{a.url}/")
    home = eventually(
        lambda: [s for s in bob.home() if s["uri"] == post["uri"]],
        what="alice's post in bob's home on B",
    )
    assert home[0]["account"]["acct"] == alice.acct

    # The requests went through Caddy: the members' address reached fedinet through
    # X-Forwarded-For from the trusted proxy, and the servers' inboxes were reached.
    for instance in (a, b):
        log = instance.log()
        assert re.search(rf"client={re.escape(MEMBERS_FROM)}\b", log), log[-3000:]
        assert "Traceback" not in log, log[-3000:]
    assert re.search(r"path=/users/alice/inbox status=202|path=/inbox status=202", a.log())
    assert re.search(r"path=/users/bob/inbox status=202|path=/inbox status=202", b.log())

    # /metrics: refused by the proxy even with the token; scraped from the process itself.
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    with a.http() as http:
        assert http.get(f"{a.url}/metrics", headers=auth).status_code == 404
    assert a.server is not None
    scraped = httpx.get(f"{a.server.url}/metrics", headers=auth, timeout=10)
    assert scraped.status_code == 200
    accepted = re.search(
        r'^fedinet_inbox_requests_total\{result="accepted",reason=""\} (\d+)$',
        scraped.text,
        re.MULTILINE,
    )
    assert accepted and int(accepted.group(1)) >= 1, scraped.text
    delivered = re.search(
        r'^fedinet_deliveries_total\{outcome="delivered"\} (\d+)$', scraped.text, re.MULTILINE
    )
    assert delivered and int(delivered.group(1)) >= 1, scraped.text
