"""Import contracts: the arrows between packages point one way.

Source files are parsed with `ast`, never imported, so the test is fast and sees every import
statement (including ones under `if TYPE_CHECKING:` or inside functions). To add a contract,
add one line to RULES.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

WEB_FRAMEWORKS = ("fastapi", "starlette", "jinja2")


@dataclass(frozen=True)
class Rule:
    """Files under `sources` (minus `exempt`) must not import any of `forbidden`."""

    name: str
    sources: tuple[str, ...]  # folders relative to the repository root
    forbidden: tuple[str, ...]  # module names; a name also forbids its submodules
    exempt: tuple[str, ...] = ()  # folders inside `sources` the rule does not cover


RULES = (
    Rule("only app.web knows the web framework", ("app",), WEB_FRAMEWORKS, exempt=("app/web",)),
    Rule("workers know no web framework", ("workers",), WEB_FRAMEWORKS),
    Rule(
        "scoring is pure",
        ("app/scoring",),
        (
            "sqlalchemy",
            "httpx",
            "app.db",
            "app.judge",
            "app.repositories",
            "app.services",
            "app.web",
        ),
    ),
    Rule(
        "screening is pure",
        ("app/screening",),
        (
            "sqlalchemy",
            "httpx",
            "app.db",
            "app.judge",
            "app.repositories",
            "app.services",
            "app.web",
        ),
    ),
    Rule(
        "leaderboard views are pure",
        ("app/leaderboard",),
        (
            "sqlalchemy",
            "httpx",
            "app.db",
            "app.judge",
            "app.repositories",
            "app.services",
            "app.web",
        ),
    ),
    Rule(
        "repositories sit below services and web",
        ("app/repositories",),
        ("app.services", "app.web"),
    ),
    Rule("services know nothing of the web", ("app/services",), ("app.web",)),
    Rule(
        "the judge knows no storage", ("app/judge",), ("app.db", "app.repositories", "app.services")
    ),
    Rule(
        "only the command line starts the stand-in judge",
        ("app", "workers"),
        ("app.standin",),
        exempt=("app/standin", "app/cli"),
    ),
    Rule(
        "the stand-in judge knows no storage, services or web",
        ("app/standin",),
        ("sqlalchemy", "app.db", "app.repositories", "app.services", "app.web", "app.cli"),
    ),
)


@dataclass(frozen=True)
class Import:
    module: str
    line: int


def module_name(path: Path) -> str:
    """`app/judge/client.py` -> `app.judge.client`; `app/judge/__init__.py` -> `app.judge`."""
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool = False) -> Iterator[Import]:
    """Every module an import statement names, relative imports resolved against `module`.

    `from a.b import c` yields both `a.b` and `a.b.c`, since `c` may be a submodule.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base:
                yield Import(base, node.lineno)
            for alias in node.names:
                if alias.name != "*":
                    yield Import(f"{base}.{alias.name}" if base else alias.name, node.lineno)


def _is_within(module: str, forbidden: str) -> bool:
    return module == forbidden or module.startswith(forbidden + ".")


def _files(rule: Rule) -> list[Path]:
    exempt = [REPO_ROOT / folder for folder in rule.exempt]
    return sorted(
        path
        for folder in rule.sources
        for path in (REPO_ROOT / folder).rglob("*.py")
        if not any(path.is_relative_to(skip) for skip in exempt)
    )


def violations(rule: Rule) -> list[str]:
    found: list[str] = []
    for path in _files(rule):
        seen: set[tuple[int, str]] = set()
        is_package = path.name == "__init__.py"
        for imported in imports_of(path.read_text(), module_name(path), is_package):
            for forbidden in rule.forbidden:
                if (
                    _is_within(imported.module, forbidden)
                    and (imported.line, forbidden) not in seen
                ):
                    seen.add((imported.line, forbidden))
                    where = path.relative_to(REPO_ROOT)
                    found.append(f"{where}:{imported.line} imports {imported.module}")
    return found


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_import_contract(rule: Rule) -> None:
    for folder in (*rule.sources, *rule.exempt):
        assert (REPO_ROOT / folder).is_dir(), f"rule {rule.name!r} names a missing folder {folder}"
    assert _files(rule), f"rule {rule.name!r} covers no files"

    found = violations(rule)
    assert not found, f"{rule.name}: {len(found)} forbidden import(s)\n  " + "\n  ".join(found)


def test_imports_are_found_in_every_form() -> None:
    source = "\n".join(
        [
            "import fastapi.routing",
            "from sqlalchemy import select",
            "from app import db",
            "from . import judge",
            "from ..services.submissions import submit",
            "def later():",
            "    import jinja2",
        ]
    )
    found = {(item.module, item.line) for item in imports_of(source, "app.scoring.f1")}
    assert found >= {
        ("fastapi.routing", 1),
        ("sqlalchemy", 2),
        ("app.db", 3),
        ("app.scoring.judge", 4),
        ("app.services.submissions", 5),
        ("jinja2", 7),
    }


def test_relative_imports_in_a_package_init_resolve_against_the_package() -> None:
    found = {item.module for item in imports_of("from .f1 import x", "app.scoring", True)}
    assert "app.scoring.f1" in found


@pytest.mark.parametrize(
    ("module", "forbidden", "expected"),
    [
        ("app.web", "app.web", True),
        ("app.web.api", "app.web", True),
        ("app.webhooks", "app.web", False),
    ],
)
def test_a_forbidden_name_covers_its_submodules_only(
    module: str, forbidden: str, expected: bool
) -> None:
    assert _is_within(module, forbidden) is expected
