"""Where the files the service reads at run time live: the one place that knows.

Two layouts hold them. In a checkout (an editable install) `templates/` and `migrations/` are
top-level directories beside `app/`. A built wheel carries them inside the package, under
`app/_bundled/` (pyproject's `[tool.hatch.build.targets.wheel.force-include]`), so an installed
service needs nothing but the wheel. The other resources live in the package in both layouts.
"""

from pathlib import Path
from typing import Literal

Resource = Literal["templates", "migrations", "static", "rubrics", "demo", "paper_results"]

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
CHECKOUT_DIR = PACKAGE_DIR.parent

# The top-level directories of a checkout that a wheel carries under BUNDLED_DIR.
TOP_LEVEL: tuple[Resource, ...] = ("templates", "migrations")

# The resources that live inside the package in every layout, relative to PACKAGE_DIR.
IN_PACKAGE: dict[Resource, str] = {
    "static": "web/static",
    "rubrics": "rubrics",
    "demo": "data/demo",
    "paper_results": "data/paper_results.csv",
}


def resource_path(name: Resource) -> Path:
    """The path of `name` in this installation: a wheel's bundled copy, else the checkout's."""
    if name in IN_PACKAGE:
        candidates = [PACKAGE_DIR / IN_PACKAGE[name]]
    else:
        candidates = [BUNDLED_DIR / name, CHECKOUT_DIR / name]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"{name} is missing from this installation (looked in {tried})")
