from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fedinet.config import load_settings
from fedinet.errors import ConfigError


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"FEDINET_DATA_DIR": str(tmp_path / "data"), **values}


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.url == "http://localhost:8000"
    assert settings.domain == "localhost:8000"
    assert settings.database_url is None
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.allow_private_networks is False
    assert settings.authorized_fetch is False
    assert settings.log_level == "info"


def test_secret_key_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path))
    second = load_settings(env(tmp_path))
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "secret_key").st_mode)
    assert mode == 0o600


def test_explicit_values(tmp_path: Path) -> None:
    settings = load_settings(
        env(
            tmp_path,
            FEDINET_URL="HTTPS://Social.Example/",
            FEDINET_DATABASE_URL="postgresql://u:p@db:5432/fedinet",
            FEDINET_SECRET_KEY="k" * 40,
            FEDINET_ALLOW_PRIVATE_NETWORKS="true",
            FEDINET_AUTHORIZED_FETCH="1",
            FEDINET_LOG_LEVEL="DEBUG",
        )
    )
    assert settings.url == "https://social.example"
    assert settings.domain == "social.example"
    assert settings.database_url == "postgresql://u:p@db:5432/fedinet"
    assert settings.secret_key == "k" * 40
    assert settings.allow_private_networks is True
    assert settings.authorized_fetch is True
    assert settings.log_level == "debug"


def test_url_with_port_keeps_it_in_domain(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, FEDINET_URL="http://127.0.0.1:8123"))
    assert settings.domain == "127.0.0.1:8123"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FEDINET_URL", "social.example", "must start with http"),
        ("FEDINET_URL", "ftp://social.example", "must start with http"),
        ("FEDINET_URL", "https://", "has no host"),
        ("FEDINET_URL", "https://social.example/path", "bare origin"),
        ("FEDINET_URL", "https://social.example:99999", "not a valid URL"),
        ("FEDINET_URL", "https://me:pw@social.example", "credentials"),
        ("FEDINET_DATABASE_URL", "mysql://localhost/db", "postgresql://"),
        ("FEDINET_SECRET_KEY", "short", "at least 32"),
        ("FEDINET_ALLOW_PRIVATE_NETWORKS", "maybe", "true or false"),
        ("FEDINET_AUTHORIZED_FETCH", "2", "true or false"),
        ("FEDINET_LOG_LEVEL", "loud", "must be one of"),
    ],
)
def test_bad_values_name_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env(tmp_path, **{variable: value}))
    assert info.value.variable == variable
    assert str(info.value).startswith(variable + ": ")
    assert message in str(info.value)


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as info:
        load_settings({"FEDINET_DATA_DIR": str(blocker / "sub")})
    assert info.value.variable == "FEDINET_DATA_DIR"
    assert "cannot create" in str(info.value)


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError) as info:
        load_settings({"FEDINET_DATA_DIR": str(blocker)})
    assert info.value.variable == "FEDINET_DATA_DIR"


def test_operations_settings_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "::1/128"]
    assert settings.metrics_allow == ()
    assert settings.metrics_token is None
    assert settings.shutdown_grace == 20.0
    assert settings.db_pool_size == 10
    assert settings.resolve == ()


def test_operations_settings_parsed(tmp_path: Path) -> None:
    settings = load_settings(
        env(
            tmp_path,
            FEDINET_TRUSTED_PROXIES=" 10.0.0.0/8, 192.168.1.7 ,[fd00::1]",
            FEDINET_METRICS_ALLOW="*",
            FEDINET_METRICS_TOKEN="t" * 20,
            FEDINET_SHUTDOWN_GRACE="2.5",
            FEDINET_DB_POOL_SIZE="4",
            FEDINET_RESOLVE="A.fedinet.test=127.0.0.2, b.fedinet.test=127.0.0.3",
        )
    )
    assert [str(n) for n in settings.trusted_proxies] == [
        "10.0.0.0/8",
        "192.168.1.7/32",
        "fd00::1/128",
    ]
    assert [str(n) for n in settings.metrics_allow] == ["0.0.0.0/0", "::/0"]
    assert settings.metrics_token == "t" * 20
    assert settings.shutdown_grace == 2.5
    assert settings.db_pool_size == 4
    assert settings.resolve == (("a.fedinet.test", "127.0.0.2"), ("b.fedinet.test", "127.0.0.3"))
    assert load_settings(env(tmp_path, FEDINET_TRUSTED_PROXIES="")).trusted_proxies == ()


def test_smtp_settings(tmp_path: Path) -> None:
    default = load_settings(env(tmp_path))
    assert default.smtp_host is None and default.smtp_port == 587
    assert default.smtp_security == "starttls"
    settings = load_settings(
        env(
            tmp_path,
            FEDINET_SMTP_HOST="mail.example.org",
            FEDINET_SMTP_PORT="465",
            FEDINET_SMTP_SECURITY="TLS",
            FEDINET_SMTP_USERNAME="fedinet",
            FEDINET_SMTP_PASSWORD="pw",
            FEDINET_SMTP_FROM="hello@example.org",
        )
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "mail.example.org",
        465,
        "tls",
    )
    assert (settings.smtp_username, settings.smtp_password, settings.smtp_from) == (
        "fedinet",
        "pw",
        "hello@example.org",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FEDINET_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
        ("FEDINET_METRICS_ALLOW", "300.1.1.1"),
        ("FEDINET_METRICS_TOKEN", "short"),
        ("FEDINET_SHUTDOWN_GRACE", "-1"),
        ("FEDINET_DB_POOL_SIZE", "0"),
        ("FEDINET_DB_POOL_SIZE", "many"),
        ("FEDINET_RESOLVE", "a.fedinet.test"),
        ("FEDINET_RESOLVE", "a.fedinet.test=somewhere"),
        ("FEDINET_RESOLVE", "=127.0.0.2"),
    ],
)
def test_bad_operations_settings_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env(tmp_path, **{name: value}))
    assert name in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FEDINET_SMTP_PORT", "smtp"),
        ("FEDINET_SMTP_PORT", "70000"),
        ("FEDINET_SMTP_SECURITY", "ssl3"),
    ],
)
def test_bad_smtp_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(env(tmp_path, **{name: value}))
