"""The arrows between rooms point one way: the import-linter contracts in pyproject.toml
([tool.importlinter]) must all hold. Imports inside functions and under TYPE_CHECKING count."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

REPO_ROOT = Path(__file__).resolve().parents[2]


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def test_every_contract_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert lint_imports(no_cache=True, no_logo=True) == 0, "a contract is broken (output above)"


def test_the_contracts_name_the_rooms_of_the_architecture() -> None:
    ids = {contract["id"] for contract in contracts()}
    expected = {"layers", "pure", "web-framework", "web-no-sql", "standin-entry", "pages-not-api"}
    assert expected <= ids


def test_a_broken_contract_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a config forbidding an import the code makes is reported broken."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["app"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "web may not use services (deliberately false)"\n'
        'type = "forbidden"\n'
        'source_modules = ["app.web"]\n'
        'forbidden_modules = ["app.services"]\n'
    )
    monkeypatch.chdir(REPO_ROOT)
    assert lint_imports(str(config), no_cache=True, no_logo=True) == 1
