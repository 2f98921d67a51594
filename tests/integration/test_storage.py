"""The three file stores behind one protocol (app/storage): content-addressed, idempotent, and
a file on this host for what the judge prompt attaches. The s3 store talks to a real
S3-compatible server over HTTP (moto's, on loopback)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.config import ConfigurationError, Settings, StorageBackend
from app.db.models import Blob
from app.db.session import create_engine, create_session_factory
from app.storage import FileStore, build_store
from app.storage.database import DatabaseStore
from app.storage.directory import DirectoryStore
from app.storage.s3 import S3Store
from app.unit_of_work import transaction
from tests.support import S3Server, run_mmrare

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def test_the_backend_follows_the_database_unless_set() -> None:
    assert (
        Settings(database_url="sqlite:///x.db").storage_backend_in_use is StorageBackend.DIRECTORY
    )
    postgres = Settings(database_url="postgresql://u@h/db")
    assert postgres.storage_backend_in_use is StorageBackend.DATABASE
    forced = Settings(database_url="postgresql://u@h/db", storage_backend="directory")
    assert isinstance(build_store(forced), DirectoryStore)
    assert isinstance(build_store(postgres), DatabaseStore)
    bucket = Settings(database_url="postgresql://u@h/db", storage_backend="s3", s3_bucket="b")
    assert isinstance(build_store(bucket), S3Store)  # built without reaching any server


async def _exercise(database_url: str, store: FileStore) -> tuple[int, Path, Path, Path]:
    """Store PNG twice, read it back, ask for it as a .png file twice and for a missing blob.
    Returns (blob rows, first file, second file, missing file)."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    digest = hashlib.sha256(PNG).hexdigest()
    try:
        async with transaction(sessions) as session:
            assert await store.put(session, PNG) == digest
        async with transaction(sessions) as session:
            assert await store.put(session, PNG) == digest  # again: harmless
        async with sessions() as session:
            assert await store.read(session, digest) == PNG
            with pytest.raises(FileNotFoundError):
                await store.read(session, "0" * 64)
            first = await store.local_file(session, digest, ".png")
            second = await store.local_file(session, digest, ".png")
            missing = await store.local_file(session, "f" * 64, ".png")
            rows = await session.scalar(select(func.count()).select_from(Blob)) or 0
        return rows, first, second, missing
    finally:
        await store.aclose()
        await engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_database_store_keeps_one_row_per_content(
    database: str, sqlite_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = sqlite_url if database == "sqlite" else request.getfixturevalue("pg_clean")
    rows, first, second, missing = asyncio.run(_exercise(url, DatabaseStore(tmp_path / "cache")))
    assert rows == 1
    assert first == second and first.suffix == ".png" and first.read_bytes() == PNG
    assert first.is_relative_to(tmp_path / "cache")  # this host's cache
    assert not missing.exists()


def test_the_directory_store_writes_files_and_no_rows(sqlite_url: str, tmp_path: Path) -> None:
    root = tmp_path / "files"
    rows, first, second, missing = asyncio.run(_exercise(sqlite_url, DirectoryStore(root)))
    digest = hashlib.sha256(PNG).hexdigest()
    assert rows == 0
    assert (root / digest[:2] / digest).read_bytes() == PNG
    assert first == second and first.name == f"{digest}.png" and first.read_bytes() == PNG
    assert not missing.exists()


def _s3_store(s3: S3Server, cache_dir: Path, **settings: Any) -> S3Store:
    store = build_store(Settings(storage_dir=cache_dir, **{**s3.settings(), **settings}))
    assert isinstance(store, S3Store)
    return store


def test_the_s3_store_keeps_one_object_per_content(
    s3_server: S3Server, sqlite_url: str, tmp_path: Path
) -> None:
    store = _s3_store(s3_server, tmp_path / "cache", s3_prefix="board/")
    rows, first, second, missing = asyncio.run(_exercise(sqlite_url, store))
    digest = hashlib.sha256(PNG).hexdigest()
    assert rows == 0
    assert s3_server.keys() == [f"board/{digest}"]  # stored twice, one object
    assert first == second and first.suffix == ".png" and first.read_bytes() == PNG
    assert first.is_relative_to(tmp_path / "cache")  # this host's cache
    assert not missing.exists()


def test_the_s3_store_fetches_a_local_file_once_per_host(
    s3_server: S3Server, sqlite_url: str, tmp_path: Path
) -> None:
    store = _s3_store(s3_server, tmp_path / "cache")
    requests: list[str] = []
    # botocore's own hook, called once per HTTP request it sends (retries included).
    store.client.meta.events.register(
        "before-send.s3", lambda request, **_: requests.append(request.method)
    )

    async def fetch_twice() -> tuple[Path, Path, list[str]]:
        engine = create_engine(sqlite_url)
        try:
            async with create_session_factory(engine)() as session:
                digest = await store.put(session, PNG)
                first = await store.local_file(session, digest, ".png")
                after_first = list(requests)
                second = await store.local_file(session, digest, ".png")
            return first, second, after_first
        finally:
            await store.aclose()
            await engine.dispose()

    first, second, after_first = asyncio.run(fetch_twice())
    assert after_first == ["PUT", "GET"]
    assert requests == after_first  # the second call read this host's copy
    assert first == second and second.read_bytes() == PNG


def test_an_s3_object_is_written_before_commit_and_outlives_a_rollback(
    s3_server: S3Server, sqlite_url: str, tmp_path: Path
) -> None:
    """A bucket cannot join the transaction: the object exists before the rows naming it are
    committed (so committed rows never name a missing object), and a rollback leaves it."""
    store = _s3_store(s3_server, tmp_path / "cache")

    async def put_then_roll_back() -> list[str]:
        engine = create_engine(sqlite_url)
        sessions = create_session_factory(engine)
        try:
            with pytest.raises(RuntimeError, match="rolled back"):
                async with transaction(sessions) as session:
                    await store.put(session, PNG)
                    seen_before_commit = s3_server.keys()
                    raise RuntimeError("rolled back")
            return seen_before_commit
        finally:
            await store.aclose()
            await engine.dispose()

    digest = hashlib.sha256(PNG).hexdigest()
    assert asyncio.run(put_then_roll_back()) == [f"mmrare/{digest}"]  # the default S3_PREFIX
    assert s3_server.keys() == [f"mmrare/{digest}"]  # unnamed, harmless: the key is the content


def test_a_missing_bucket_is_not_a_missing_file(
    s3_server: S3Server, sqlite_url: str, tmp_path: Path
) -> None:
    """Only a missing key means "nothing stored"; a missing bucket is a fault to see."""
    store = _s3_store(s3_server, tmp_path / "cache", s3_bucket="no-such-bucket")

    async def read() -> None:
        engine = create_engine(sqlite_url)
        try:
            async with create_session_factory(engine)() as session:
                await store.read(session, "0" * 64)
        finally:
            await store.aclose()
            await engine.dispose()

    with pytest.raises(store.client.exceptions.NoSuchBucket):
        asyncio.run(read())


def test_the_s3_store_refuses_to_start_without_its_bucket_or_boto3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(storage_dir=tmp_path, storage_backend="s3")
    with pytest.raises(ConfigurationError, match=r"STORAGE_BACKEND=s3 needs S3_BUCKET: set it"):
        build_store(settings)
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if the s3 extra were not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'mmrarebench-leaderboard\[s3\]'"):
        build_store(settings.model_copy(update={"s3_bucket": "files"}))


def test_a_command_says_which_setting_the_s3_store_lacks(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": sqlite_url, "STORAGE_BACKEND": "s3"}
    env.pop("S3_BUCKET", None)
    result = run_mmrare("gold", "import", str(tmp_path), env=env, cwd=tmp_path)
    assert result.returncode == 1, result
    assert result.stderr.startswith("mmrare: STORAGE_BACKEND=s3 needs S3_BUCKET"), result.stderr
    assert "Traceback" not in result.stderr


@hypothesis_settings(max_examples=300, deadline=None)
@given(prefix=st.text(max_size=1100))
def test_an_s3_prefix_is_refused_at_start_up_or_makes_a_key_the_bucket_takes(
    prefix: str,
) -> None:
    """Any text, NUL, controls, lone surrogates and over-long ones included: a setting either
    refused by name, or one whose keys are UTF-8 within S3's 1,024 bytes."""
    try:
        settings = Settings(s3_prefix=prefix)
    except pydantic.ValidationError as exc:
        assert "S3_PREFIX" in str(exc)
        return
    key = f"{settings.s3_prefix}{'0' * 64}".encode()  # raises on a lone surrogate
    assert len(key) <= 1024
    assert not any(byte < 0x20 or byte == 0x7F for byte in key)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    setting=st.sampled_from(["s3_bucket", "s3_endpoint_url", "s3_region"]),
    value=st.text(min_size=1, max_size=300)
    | st.from_regex(r"https?://[a-z0-9._\-\[\]:]{0,40}(:[0-9]{1,6})?/?", fullmatch=True),
)
def test_an_s3_setting_is_refused_by_name_or_builds_a_store(setting: str, value: str) -> None:
    """Any text (NUL, lone surrogates, spaces, other schemes, ports out of range): the store
    either starts, or refuses naming the setting, never with another error."""
    base = {"storage_backend": "s3", "s3_bucket": "files"}
    try:
        store = build_store(Settings(**{**base, setting: value}))
    except ConfigurationError as exc:
        assert str(exc).startswith(f"{setting.upper()} is not "), exc
        return
    assert isinstance(store, S3Store)
    asyncio.run(store.aclose())
