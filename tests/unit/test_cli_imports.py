"""`mmrare` starts light: building its parser (what `--help` and every command do first) loads
no database, queue or web framework. Each command imports the services it uses when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "arq", "redis", "fastapi", "starlette", "jinja2", "alembic", "boto3")

# The client commands' modules too: `mmrare submit`, `status` and `action` talk to the API only.
PROBE = """
import json, sys
from app.cli import build_parser, submit, kit
build_parser()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_building_the_parser_loads_no_database_queue_or_web_framework() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "app" in loaded and "argparse" in loaded  # the probe did load the CLI
    assert loaded.isdisjoint(HEAVY), sorted(loaded.intersection(HEAVY))


def test_the_cli_offers_the_actions_the_api_takes() -> None:
    from app.submission_verbs import ACTIONS, DONE
    from app.web.views.submission_actions import SUBMISSION_ACTIONS

    assert tuple(action.verb for action in SUBMISSION_ACTIONS) == ACTIONS
    assert set(DONE) == set(ACTIONS)
