"""Declared dependencies match what the code imports, and the lock files pin every one of them.

After adding or removing a dependency in pyproject.toml, `make lock` regenerates the locks.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
FIRST_PARTY = {"app", "workers"}
RUN_TIME_CODE = ("app", "workers", "migrations")

# Runtime dependencies the code uses without importing them by name, and how.
USED_WITHOUT_IMPORT = {
    "psycopg": "SQLAlchemy's PostgreSQL driver, chosen from DATABASE_URL",
    "aiosqlite": "SQLAlchemy's SQLite driver, chosen from DATABASE_URL",
    "jinja2": "pages render through fastapi.templating.Jinja2Templates",
    "fastapi-offline": "its Swagger UI files are served by path (app/web/docs.py)",
    "sniffio": (
        "httpcore imports it on every judge request to tell asyncio from trio; without it each "
        "request pays for failed imports (a sys.path search), a fifth of the client's CPU"
    ),
}


def normalize(name: str) -> str:
    """PEP 503: `Jinja2`, `jinja2` and `jinja_2`-style spellings compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return normalize(match.group())


def declared(group: str | None = None) -> set[str]:
    project = PYPROJECT["project"]
    requirements = (
        project["dependencies"] if group is None else project["optional-dependencies"][group]
    )
    return {requirement_name(r) for r in requirements}


def pins(lock: str) -> dict[str, str]:
    text = (REPO_ROOT / lock).read_text()
    return {
        normalize(name): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE)
    }


def imported_top_level_modules() -> set[str]:
    """Every module imported by absolute import in run-time code (function bodies included)."""
    modules: set[str] = set()
    for root in RUN_TIME_CODE:
        for path in (REPO_ROOT / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.partition(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.partition(".")[0])
    return modules - FIRST_PARTY - set(sys.stdlib_module_names)


def test_every_imported_package_is_a_declared_runtime_dependency() -> None:
    owners = importlib.metadata.packages_distributions()
    undeclared = {}
    for module in sorted(imported_top_level_modules()):
        distributions = {normalize(d) for d in owners.get(module, [module])}
        if not distributions & declared():
            undeclared[module] = sorted(distributions)
    assert undeclared == {}, "imported but not in [project] dependencies (module: distributions)"


def test_every_declared_runtime_dependency_is_used() -> None:
    owners = importlib.metadata.packages_distributions()
    imported = {
        normalize(distribution)
        for module in imported_top_level_modules()
        for distribution in owners.get(module, [module])
    }
    assert set(USED_WITHOUT_IMPORT) <= declared(), "stale USED_WITHOUT_IMPORT entry"
    unused = declared() - imported - set(USED_WITHOUT_IMPORT)
    assert unused == set(), "declared in [project] dependencies but never imported"


def test_the_locks_pin_every_declared_dependency() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    missing = {
        "requirements.lock": sorted(declared() - set(runtime)),
        "requirements-dev.lock": sorted((declared() | declared("dev")) - set(dev)),
    }
    assert missing == {"requirements.lock": [], "requirements-dev.lock": []}, (
        "a dependency is missing from a lock: run `make lock`"
    )
    # The image runs exactly what CI tests: every runtime pin is the dev lock's.
    disagree = {name: (version, dev.get(name)) for name, version in runtime.items()}
    assert {k: v for k, v in disagree.items() if v[0] != v[1]} == {}, "run `make lock`"


def test_every_lock_line_carries_a_hash() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (REPO_ROOT / lock).read_text()
        for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2]):
            assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]} has no hash"
