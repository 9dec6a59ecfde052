"""The files under ``deploy/``: each one through its own validator, plus the structure
the deployment relies on (non-root image, replicas, migration order, unit hardening).

The validators are the real tools: hadolint, check-jsonschema (compose specification),
systemd-analyze verify, caddy validate, nginx -t and kubernetes-validate. Outside CI a
missing tool skips its test; with ``CI`` set it fails, so CI cannot pass without them.

systemd-analyze needs ``ExecStart`` to name an existing executable: the units point at
``/opt/fedinet/venv/bin/fedinet``, and the test verifies copies that point at the
``fedinet`` of the running Python instead. nginx -t runs the site inside a minimal
wrapper configuration, with a throw-away self-signed certificate in place of the
Let's Encrypt paths.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedinet.config import ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("fedinet-web.service", "fedinet-worker@.service")
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
VENV_FEDINET = "/opt/fedinet/venv/bin/fedinet"
# Settings fedinet does not read itself but deploy/ sets.
EXTRA_ENV: set[str] = set()


def tool(name: str) -> str:
    """The path of a validator: the test environment's scripts first, then PATH."""
    local = Path(sysconfig.get_path("scripts")) / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    # nginx lives in /usr/sbin, which a non-root PATH may lack.
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed, and CI must run every deploy validator")
    pytest.skip(f"{name} is not installed")


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# --- Dockerfile -------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_passes_hadolint() -> None:
    code, output = run(
        tool("hadolint"), "--no-color", "--failure-threshold", "info", "deploy/Dockerfile"
    )
    assert code == 0, output
    assert output.strip() == ""


def test_dockerfile_is_multi_stage_non_root_and_checks_health() -> None:
    instructions = dockerfile_instructions()
    froms = [args for word, args in instructions if word == "FROM"]
    assert len(froms) >= 2
    assert froms[0].endswith(" AS build")
    assert any(a.endswith("PYTHON_IMAGE=python:3.11-slim-bookworm") for w, a in instructions)
    users = [args for word, args in instructions if word == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    healthchecks = [args for word, args in instructions if word == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert "/healthz" in healthchecks[0]
    assert "curl" not in healthchecks[0] and "wget" not in healthchecks[0]
    assert ("EXPOSE", "8000") in instructions
    assert ("ENTRYPOINT", '["fedinet"]') in instructions
    assert ("CMD", '["serve", "--host", "0.0.0.0"]') in instructions


def test_dockerfile_copies_everything_the_wheel_needs() -> None:
    """Every directory pyproject.toml packages from is copied into the build stage."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", "README.md", "LICENSE"}
    needed |= {d.split("/")[0] for d in project["tool"]["setuptools"]["package-dir"].values()}
    copy_sources: set[str] = set()
    for word, args in dockerfile_instructions():
        if word == "COPY" and not args.startswith("--"):
            copy_sources.update(part.rstrip("/") for part in args.split()[:-1])
    assert needed <= copy_sources, needed - copy_sources
    for source in copy_sources:
        assert (ROOT / source).exists(), source
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for source in copy_sources:
        assert f"!{source}" in ignore or f"!{source}/" in ignore, source


# --- compose ----------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data = load_yaml(DEPLOY / "compose.yaml")
    assert isinstance(data, dict)
    return data


def test_compose_matches_the_compose_specification() -> None:
    code, output = run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        "deploy/compose.yaml",
    )
    assert code == 0, output
    assert "ok -- validation done" in output


def test_compose_runs_db_migrate_web_worker_and_caddy() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "web", "worker", "caddy"}

    db = services["db"]
    assert db["image"] in ("postgres:17", "postgres:18")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"][0].split(":")[0] in compose()["volumes"]

    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"

    for name, command in (("web", "serve"), ("worker", "worker")):
        service = services[name]
        assert service["command"][0] == command
        assert "replicas" in service["deploy"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["FEDINET_WORKERS_IN_WEB"] == "false"
        assert "ports" not in service, "only Caddy is reachable from outside"
        assert service["image"] == migrate["image"]
    assert services["worker"]["healthcheck"] == {"disable": True}

    caddy = services["caddy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])


def test_env_example_documents_every_variable() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    referenced = set(re.findall(r"\$\{(\w+)", text))
    example = (DEPLOY / ".env.example").read_text()
    defined = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert referenced == defined, referenced ^ defined
    # Every fedinet setting is at least explained there (set, or said why not).
    for name in ENV_VARS:
        assert name in example or name in text, name


# --- systemd ----------------------------------------------------------------------------


HARDENING = (
    "NoNewPrivileges=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "PrivateTmp=true",
    "PrivateDevices=true",
    "ProtectKernelTunables=true",
    "ProtectKernelModules=true",
    "ProtectKernelLogs=true",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "CapabilityBoundingSet=",
    "SystemCallFilter=@system-service",
    "EnvironmentFile=/etc/fedinet/fedinet.env",
    "ReadWritePaths=/var/lib/fedinet",
    "Restart=on-failure",
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30",
    "User=fedinet",
)


@pytest.mark.parametrize("unit", UNITS)
def test_unit_is_hardened(unit: str) -> None:
    lines = set((DEPLOY / "systemd" / unit).read_text().splitlines())
    missing = [directive for directive in HARDENING if directive not in lines]
    assert not missing
    assert f"ExecStart={VENV_FEDINET} {'serve' if 'web' in unit else 'worker'}" in "\n".join(lines)


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    fedinet = Path(sysconfig.get_path("scripts")) / "fedinet"
    assert fedinet.is_file(), "fedinet must be installed in the test environment"
    for unit in UNITS:
        text = (DEPLOY / "systemd" / unit).read_text()
        assert VENV_FEDINET in text
        (tmp_path / unit).write_text(text.replace(VENV_FEDINET, str(fedinet)))
    targets = [str(tmp_path / "fedinet-web.service"), str(tmp_path / "fedinet-worker@1.service")]
    code, output = run(analyze, "verify", "--man=no", *targets, cwd=tmp_path)
    assert code == 0, output
    # verify exits 0 on unknown keys and bad values: any line about our units fails.
    ours = [line for line in output.splitlines() if str(tmp_path) in line or "fedinet" in line]
    assert ours == []


# --- reverse proxies --------------------------------------------------------------------


def test_caddyfile_validates(tmp_path: Path) -> None:
    caddy = tool("caddy")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "FEDINET_DOMAIN": "social.example.org",
        "FEDINET_UPSTREAM_HOST": "web",
        "FEDINET_UPSTREAM_PORT": "8000",
    }
    caddyfile = str(DEPLOY / "Caddyfile")
    code, output = run(
        caddy, "validate", "--adapter", "caddyfile", "--config", caddyfile, env=env, cwd=tmp_path
    )
    assert code == 0, output
    assert "Valid configuration" in output
    levels = {json.loads(line)["level"] for line in output.splitlines() if line.startswith("{")}
    assert levels <= {"info"}, output

    code, output = run(caddy, "fmt", caddyfile, env=env, cwd=tmp_path)
    assert code == 0, output
    assert output == (DEPLOY / "Caddyfile").read_text(), "run `caddy fmt --overwrite`"

    result = subprocess.run(
        [caddy, "adapt", "--adapter", "caddyfile", "--config", caddyfile],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    adapted = json.dumps(json.loads(result.stdout))
    assert '"handler": "reverse_proxy"' in adapted
    assert '"max_size": 16000000' in adapted
    assert '"social.example.org"' in adapted
    # Caddy passes Host and sets X-Forwarded-* itself; a rewrite would break signatures.
    assert "header_up" not in (DEPLOY / "Caddyfile").read_text()


def self_signed(directory: Path, host: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = tool("nginx")
    site = (DEPLOY / "nginx" / "fedinet.conf").read_text()
    live = "/etc/letsencrypt/live/social.example.org/"
    assert live in site
    self_signed(tmp_path, "social.example.org")
    (tmp_path / "fedinet.conf").write_text(site.replace(live, f"{tmp_path}/"))
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        "error_log stderr;\n"
        "events {}\n"
        "http {\n"
        f"{temp_paths}\n"
        "    access_log off;\n"
        f"    include {tmp_path}/fedinet.conf;\n"
        "}\n"
    )
    code, output = run(
        nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")
    )
    assert code == 0, output
    assert "test is successful" in output
    assert "[warn]" not in output and "[emerg]" not in output, output


def test_nginx_site_forwards_what_fedinet_needs() -> None:
    site = (DEPLOY / "nginx" / "fedinet.conf").read_text()
    for directive in (
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "client_max_body_size 16m;",
        "proxy_read_timeout 60s;",
        "location /static/",
    ):
        assert directive in site, directive


# --- Kubernetes -------------------------------------------------------------------------


def manifests() -> dict[str, dict[str, Any]]:
    """Every resource under deploy/kubernetes, keyed by ``Kind/name``."""
    out = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return out


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kubernetes_manifests_validate(version: str) -> None:
    files = sorted(str(p) for p in (DEPLOY / "kubernetes").glob("*.yaml"))
    code, output = run(tool("kubernetes-validate"), "--strict", "-k", version, *files)
    assert code == 0, output
    lines = output.splitlines()
    assert len([line for line in lines if line.startswith("INFO ") and "passed" in line]) == len(
        files
    ), output
    assert not [line for line in lines if not line.startswith("INFO ")], output


def test_kubernetes_resources_fit_together() -> None:
    resources = manifests()
    for kind in (
        "Deployment/fedinet-web",
        "Deployment/fedinet-worker",
        "Job/fedinet-migrate",
        "HorizontalPodAutoscaler/fedinet-web",
        "Service/fedinet-web",
        "Ingress/fedinet",
        "ConfigMap/fedinet",
        "Secret/fedinet",
    ):
        assert kind in resources, kind

    config_keys = set(resources["ConfigMap/fedinet"]["data"])
    secret_keys = set(resources["Secret/fedinet"]["stringData"])
    assert config_keys | secret_keys <= set(ENV_VARS) | EXTRA_ENV
    assert "FEDINET_DATABASE_URL" in secret_keys, "Kubernetes uses an external PostgreSQL"
    assert resources["ConfigMap/fedinet"]["data"]["FEDINET_WORKERS_IN_WEB"] == "false"

    pods = {
        name: resources[name]["spec"]["template"]
        for name in ("Deployment/fedinet-web", "Deployment/fedinet-worker", "Job/fedinet-migrate")
    }
    images = set()
    for name, pod in pods.items():
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        (container,) = spec["containers"]
        images.add(container["image"])
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"requests", "limits"} <= set(container["resources"]), name
        sources = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert sources == {"fedinet"}, name
    assert len(images) == 1, "web, worker and migrate run the same image"

    web = pods["Deployment/fedinet-web"]
    (container,) = web["spec"]["containers"]
    assert container["args"][0] == "serve"
    # ready while the database answers; alive while the process answers at all
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    grace = int(resources["ConfigMap/fedinet"]["data"]["FEDINET_SHUTDOWN_GRACE"])
    for name in ("Deployment/fedinet-web", "Deployment/fedinet-worker"):
        assert grace < pods[name]["spec"].get("terminationGracePeriodSeconds", 30), name
    (worker,) = pods["Deployment/fedinet-worker"]["spec"]["containers"]
    assert worker["args"][0] == "worker"
    assert worker["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
    ports = {port["name"]: port["containerPort"] for port in worker["ports"]}
    assert str(ports["metrics"]) == worker["args"][worker["args"].index("--metrics-port") + 1]
    assert pods["Job/fedinet-migrate"]["spec"]["containers"][0]["args"] == ["migrate"]

    hpa = resources["HorizontalPodAutoscaler/fedinet-web"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "fedinet-web",
    }
    service = resources["Service/fedinet-web"]["spec"]
    assert service["selector"].items() <= web["metadata"]["labels"].items()
    backend = resources["Ingress/fedinet"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["name"] == "fedinet-web"


# --- docs -------------------------------------------------------------------------------


def test_deploy_doc_names_only_existing_files() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    named = set(re.findall(r"\bdeploy/[\w./@-]*[\w@]", doc))
    assert named
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == []
