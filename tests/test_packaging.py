"""What ``pip install .`` ships: every package, the migrations and the templates."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "fedinet").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"missing from [tool.setuptools] packages: {sorted(found - listed)}"
    assert {"fedinet.migrations", "fedinet.templates"} <= listed
    assert config["package-dir"]["fedinet.migrations"] == "migrations"
    assert config["package-dir"]["fedinet.templates"] == "templates"


def test_static_files_of_the_pages_are_package_data() -> None:
    """Every file under fedinet/web/pages/static/ matches a package-data pattern."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["fedinet.web.pages"]
    static = ROOT / "fedinet" / "web" / "pages"
    files = [p for p in (static / "static").iterdir() if p.is_file()]
    assert files
    for path in files:
        relative = path.relative_to(static)
        assert any(relative.match(pattern) for pattern in patterns), relative
