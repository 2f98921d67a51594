"""Declared dependencies match what the code imports, and the lock files pin every one of them.

After adding or removing a dependency in pyproject.toml, `make lock` regenerates the locks.
An optional extra of the service (`s3`) is pinned in both locks, like a dependency, but its
packages are imported only inside functions of the modules named for it, so an install without
the extra still imports and runs everything else.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
FIRST_PARTY = {"app", "workers"}
DEV_EXTRA = "dev"

# The service's optional extras, each with the only modules that may import its packages.
RUNTIME_EXTRAS = {"s3": {"app/storage/s3.py"}}
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


def requirement_extras(requirement: str) -> list[str]:
    match = re.match(r"[A-Za-z0-9._-]+\s*\[([^\]]*)\]", requirement)
    return [extra.strip() for extra in match.group(1).split(",")] if match else []


def declared(group: str | None = None) -> set[str]:
    """The distributions `[project] dependencies` (or one extra) name; an extra that names the
    project itself with extras (`mmrarebench-leaderboard[s3]`) names theirs."""
    project = PYPROJECT["project"]
    requirements = (
        project["dependencies"] if group is None else project["optional-dependencies"][group]
    )
    names: set[str] = set()
    for requirement in requirements:
        if requirement_name(requirement) == normalize(project["name"]):
            for extra in requirement_extras(requirement):
                names |= declared(extra)
        else:
            names.add(requirement_name(requirement))
    return names


def runtime_extras() -> set[str]:
    return {name for extra in RUNTIME_EXTRAS for name in declared(extra)}


def pins(lock: str) -> dict[str, str]:
    text = (REPO_ROOT / lock).read_text()
    return {
        normalize(name): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE)
    }


def _module_level(tree: ast.Module) -> set[ast.AST]:
    """The import statements run when the module is imported (outside any function)."""
    nodes: set[ast.AST] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        nodes.add(node)
        pending.extend(ast.iter_child_nodes(node))
    return nodes


@functools.cache
def imports_by_file() -> dict[str, dict[str, bool]]:
    """Each run-time file -> the top-level modules it imports by absolute import (function
    bodies included), each with whether the import runs when the file itself is imported."""
    found: dict[str, dict[str, bool]] = {}
    for root in RUN_TIME_CODE:
        for path in (REPO_ROOT / root).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            at_import = _module_level(tree)
            modules: dict[str, bool] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name.partition(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module.partition(".")[0]]
                else:
                    continue
                for name in names:
                    modules[name] = modules.get(name, False) or node in at_import
            external = set(modules) - FIRST_PARTY - set(sys.stdlib_module_names)
            found[str(path.relative_to(REPO_ROOT))] = {m: modules[m] for m in external}
    return found


def imported_top_level_modules() -> set[str]:
    """Every module imported by absolute import in run-time code (function bodies included)."""
    return {module for modules in imports_by_file().values() for module in modules}


_owners = functools.cache(importlib.metadata.packages_distributions)


def distributions_of(module: str) -> set[str]:
    return {normalize(d) for d in _owners().get(module, [module])}


def test_every_imported_package_is_a_declared_runtime_dependency() -> None:
    undeclared = {}
    for module in sorted(imported_top_level_modules()):
        distributions = distributions_of(module)
        if not distributions & (declared() | runtime_extras()):
            undeclared[module] = sorted(distributions)
    assert undeclared == {}, "imported but neither a dependency nor in an extra (module: dists)"


def test_every_declared_runtime_dependency_is_used() -> None:
    imported = {
        distribution
        for module in imported_top_level_modules()
        for distribution in distributions_of(module)
    }
    assert set(USED_WITHOUT_IMPORT) <= declared(), "stale USED_WITHOUT_IMPORT entry"
    unused = (declared() | runtime_extras()) - imported - set(USED_WITHOUT_IMPORT)
    assert unused == set(), "declared in [project] dependencies or an extra but never imported"


def test_every_extra_is_the_service_s_or_the_dev_tools() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    assert extras == set(RUNTIME_EXTRAS) | {DEV_EXTRA}, "name a new extra's modules here"
    assert runtime_extras() <= declared(DEV_EXTRA), "the dev environment (tests) has every extra"


def test_an_extra_is_imported_only_inside_functions_of_its_modules() -> None:
    misplaced: dict[str, list[str]] = {}
    for extra, allowed in RUNTIME_EXTRAS.items():
        packages = declared(extra) - declared()
        for path, modules in imports_by_file().items():
            for module, at_import in modules.items():
                if distributions_of(module) & packages and (at_import or path not in allowed):
                    misplaced.setdefault(extra, []).append(f"{path}: {module}")
    assert misplaced == {}, "an install without the extra would fail to import these"


def test_the_locks_pin_every_declared_dependency() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    service = declared() | runtime_extras()
    missing = {
        "requirements.lock": sorted(service - set(runtime)),
        "requirements-dev.lock": sorted((service | declared(DEV_EXTRA)) - set(dev)),
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
