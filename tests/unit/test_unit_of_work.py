"""The unit-of-work rule and the keys, without a database: only app/unit_of_work.py commits;
jobs are recorded once; a token's use is written at most once per resolution; every key is
named for what it keys, derived with domain separation, and the placeholder is refused."""

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.config import ConfigurationError, Keys, Settings, tokens_match
from app.services.accounts import TOKEN_USE_RESOLUTION, token_use_due
from app.unit_of_work import UnitOfWork, send_jobs

ROOT = Path(__file__).resolve().parents[2]
COMMITTER = ROOT / "app" / "unit_of_work.py"


def commit_calls(path: Path) -> list[int]:
    """Lines where `path` calls a `.commit()` method (any receiver)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_only_the_unit_of_work_module_commits() -> None:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for folder in ("app", "workers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != COMMITTER and (lines := commit_calls(path))
    }
    assert offenders == {}, "commit only through app.unit_of_work (open a unit of work instead)"
    assert commit_calls(COMMITTER), "the unit of work itself must commit"


def test_the_commit_finder_finds_a_commit(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("async def f(s):\n    await s.flush()\n    await s.commit()\n")
    assert commit_calls(sample) == [3]


def test_a_job_is_recorded_once_in_order() -> None:
    uow = UnitOfWork(session=None)  # type: ignore[arg-type]  # recording needs no session
    uow.enqueue_run(3, 1)
    uow.enqueue_runs([(1, 2), (3, 1), (3, 2)])
    assert uow.jobs == ((3, 1), (1, 2), (3, 2))


async def test_jobs_without_a_queue_are_refused_loudly() -> None:
    await send_jobs(None, [])  # nothing to send: fine
    with pytest.raises(RuntimeError, match="1 job"):
        await send_jobs(None, [(1, 1)])


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_used", "due"),
    [
        (None, True),
        (NOW - TOKEN_USE_RESOLUTION, True),
        (NOW - TOKEN_USE_RESOLUTION + timedelta(seconds=1), False),
        (NOW, False),
    ],
)
def test_a_token_use_is_written_at_most_once_per_resolution(
    last_used: datetime | None, due: bool
) -> None:
    assert token_use_due(last_used, NOW) is due


def test_the_prompt_nonce_key_is_the_secret_itself_and_the_others_are_derived() -> None:
    keys = Keys.derive(b"s3cret")
    assert keys.prompt_nonce_key == b"s3cret"  # judge-cache keys of stored runs stay valid
    derived = {keys.form_key, keys.view_link_key}
    assert len(derived) == 2 and b"s3cret" not in derived
    assert all(len(key) == 32 for key in derived)
    assert Keys.derive(b"other").form_key != keys.form_key
    assert "s3cret" not in repr(keys) and "s3cret" not in str(keys)


def test_the_secret_key_comes_from_the_setting(tmp_path: Path) -> None:
    settings = Settings(storage_dir=tmp_path / "uploads", secret_key=SecretStr("abc"))
    assert settings.resolve_keys() == Keys.derive(b"abc")
    assert not (tmp_path / "secret.key").exists()
    assert "abc" not in repr(settings)  # SecretStr: never printed
    judge = Settings(judge_api_key="sk-live-123")  # type: ignore[arg-type]  # from the env
    assert isinstance(judge.judge_api_key, SecretStr) and "sk-live-123" not in repr(judge)


def test_without_a_secret_key_one_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(storage_dir=tmp_path / "uploads")
    first = settings.resolve_keys()
    stored = (tmp_path / "secret.key").read_text().strip().encode()
    assert first.prompt_nonce_key == stored and len(stored) == 64
    assert settings.resolve_keys() == first


@pytest.mark.parametrize(
    "value", ["change-me-to-64-random-hex-characters", "change-me", "Change-Me"]
)
def test_the_env_example_placeholder_is_refused(tmp_path: Path, value: str) -> None:
    settings = Settings(storage_dir=tmp_path / "uploads", secret_key=SecretStr(value))
    with pytest.raises(ConfigurationError) as refused:
        settings.resolve_keys()
    message = str(refused.value)
    assert "SECRET_KEY" in message and "deploy/env.example" in message
    assert "secrets.token_hex(32)" in message  # how to fix it


def test_the_env_example_still_holds_the_placeholder() -> None:
    example = (ROOT / "deploy" / "env.example").read_text()
    assert "SECRET_KEY=change-me" in example


@pytest.mark.parametrize("given", ["abc", "abd", "é", "\ud800", "\x00", ""])
def test_tokens_match_only_an_equal_token_and_never_raises(given: str) -> None:
    assert tokens_match(given, "abc") is (given == "abc")
