"""Schema-driven fuzzing of the JSON API (schemathesis) on PostgreSQL: every operation of the
app's own OpenAPI document gets generated requests — valid and invalid — with a team token (an
admin token under /api/v1/admin). No answer may be a 5xx, and every status code must be one the
document lists with the body it documents. Bounded and reproducible: a fixed number of examples
per operation, derandomized.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.integration.helpers import serve_demo_on_postgres

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 25
MIN_OPERATIONS = 33  # the API has these; fewer means the document lost operations
ADMIN_PREFIX = "/api/v1/admin"


@dataclasses.dataclass(frozen=True)
class FuzzTarget:
    base_url: str
    team_token: str
    admin_token: str

    def headers(self, path: str) -> dict[str, str]:
        token = self.admin_token if path.startswith(ADMIN_PREFIX) else self.team_token
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def target(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with serve_demo_on_postgres(postgres_url, tmp_path_factory.mktemp("fuzz")) as served:
        yield FuzzTarget(served.base_url, served.team_token, served.admin_token)


def fuzz(target: FuzzTarget, checks: list[CheckFunction]) -> tuple[int, list[str]]:
    """Run every operation; return how many ran and one line per failing operation."""
    schema = schemathesis.openapi.from_url(f"{target.base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        run = _operation_test(operation, target, checks)
        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the first failing example (a FailureGroup)
            lines = str(exc).strip().splitlines()[:14]
            failures.append(f"{operation.method.upper()} {operation.path}: " + "\n  ".join(lines))
    return operations, failures


def _operation_test(
    operation: schemathesis.APIOperation, target: FuzzTarget, checks: list[CheckFunction]
) -> Callable[[], None]:
    strategy = operation.as_strategy(schemathesis.GenerationMode.POSITIVE) | operation.as_strategy(
        schemathesis.GenerationMode.NEGATIVE
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=target.base_url,
            headers=target.headers(operation.path),
            checks=checks,
            timeout=30,
        )

    return run


def test_no_operation_answers_a_server_error(target: FuzzTarget) -> None:
    operations, failures = fuzz(target, [not_a_server_error])
    assert operations >= MIN_OPERATIONS, operations
    assert not failures, "\n".join(failures)


def test_every_answer_is_documented_with_its_status_and_schema(target: FuzzTarget) -> None:
    operations, failures = fuzz(target, [status_code_conformance, response_schema_conformance])
    assert operations >= MIN_OPERATIONS, operations
    assert not failures, "\n".join(failures)
