"""Every prediction-file rule through the API, with its exact error, and a database left
consistent: a rejected submission holding the errors, the raw file kept, no run, nothing queued.
Plus the size limit on the declared length, the streamed body and the decompressed content."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import EvaluationRun, Model, Submission
from app.tracks import Track
from tests.integration.helpers import (
    InProcessApp,
    auth,
    in_process_app,
    sqlite_template,
    web_settings,
)

SHAPE = '{"id": "...", "prediction": "..."}'


def line(item_id: str, prediction: object = "an answer", **extra: object) -> bytes:
    return json.dumps({"id": item_id, "prediction": prediction, **extra}).encode() + b"\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def settings(template: Path, tmp_path: Path) -> Settings:
    return web_settings(template, tmp_path, max_upload_bytes=64 * 1024)


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[InProcessApp]:
    async with in_process_app(settings) as env:
        yield env


async def rows(env: InProcessApp) -> tuple[list[Submission], int]:
    async with env.sessions() as session:
        submissions = list(await session.scalars(select(Submission)))
        runs = await session.scalar(select(func.count()).select_from(EvaluationRun)) or 0
    return submissions, runs


RULES = [
    (
        "not JSON",
        line("t1-0001") + b"not json\n",
        "p.jsonl line 2: not valid JSON (Expecting value at column 1) — each line must be one "
        f"complete JSON object like {SHAPE}",
    ),
    ("missing id", b'{"prediction": "x"}\n', "p.jsonl line 1: missing 'id'"),
    (
        "id not a string",
        b'{"id": 7, "prediction": "x"}\n',
        'p.jsonl line 1: \'id\' must be a string — got a number; write "id": "..."',
    ),
    (
        "missing prediction",
        b'{"id": "t1-0001"}\n',
        "p.jsonl line 1 (id 't1-0001'): missing 'prediction' — add \"prediction\": "
        '"<your answer>"',
    ),
    (
        "prediction not a string",
        line("t1-0001", ["a", "b"]),
        "p.jsonl line 1 (id 't1-0001'): 'prediction' must be a string — got a list; join the "
        "parts into one string",
    ),
    (
        "prediction too long",
        line("t1-0001", "x" * 8001),
        "p.jsonl line 1 (id 't1-0001'): prediction is 8,001 characters; the limit is 8,000 — "
        "shorten it",
    ),
    (
        "unknown id",
        line("t9-9999"),
        "p.jsonl line 1 (id 't9-9999'): unknown id — no gold item has this id; check it "
        "against the benchmark's ids",
    ),
    (
        "id of another track",
        line("t3-0002"),
        "p.jsonl line 1 (id 't3-0002'): id 't3-0002' belongs to track T3, not T1",
    ),
    (
        "duplicate id",
        line("t1-0001") + line("t1-0001"),
        "p.jsonl line 2 (id 't1-0001'): duplicate id — first seen on line 1; keep one "
        "prediction per item",
    ),
    (
        "track disagrees with the upload",
        line("t2-0001", track="T2"),
        "p.jsonl line 1 (id 't2-0001'): 'track' is T2 but this upload is for T1 — remove the "
        "line or upload it under T2",
    ),
    (
        "track invalid",
        line("t1-0001", track="t1"),
        "p.jsonl line 1 (id 't1-0001'): 'track' must be one of T1, T2, T3, T4 — got 't1'",
    ),
    ("empty file", b"", f"p.jsonl: the file is empty — expected one {SHAPE} per line"),
    (
        "not UTF-8",
        b'{"id": "t1-0001", "prediction": "\xff"}\n',
        "p.jsonl line 1: not valid UTF-8 (byte 0xff at byte offset 33) — save the file as UTF-8",
    ),
    (
        "not gzip after all",
        b"\x1f\x8bnot really gzip",
        "p.jsonl: not a valid gzip file (Error -3 while decompressing data: unknown compression "
        "method) — compress the file again, or upload it uncompressed",
    ),
]


@pytest.mark.parametrize(("content", "message"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
async def test_each_rule_rejects_with_its_error_and_records_the_file(
    env: InProcessApp, settings: Settings, content: bytes, message: str
) -> None:
    token = await env.token("alpha")
    response = await env.upload(token, content, filename="p.jsonl")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["state"] == "rejected" and body["status"] is None
    details = body["error"]["details"]
    assert details == ["p.jsonl: 1 error; the file was not accepted", message]

    (submission,), runs = await rows(env)
    assert submission.state == "rejected" and runs == 0 and env.queue.jobs == []
    assert submission.error_count == 1 and len(submission.errors) == 1
    assert submission.team_id is not None and submission.published is False
    digest = hashlib.sha256(content).hexdigest()
    assert submission.file_sha256 == digest
    assert (settings.storage_dir / digest[:2] / digest).read_bytes() == content  # kept for audit


async def test_the_first_20_errors_are_listed_with_a_count_of_the_rest(env: InProcessApp) -> None:
    token = await env.token("alpha")
    content = b"".join(line(f"x-{n}") for n in range(25))
    response = await env.upload(token, content, filename="p.jsonl")
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details[0] == "p.jsonl: 25 errors; the file was not accepted"
    assert len(details) == 1 + 20 + 1 and details[-1] == "… and 5 more errors"
    assert details[20].startswith("p.jsonl line 20 (id 'x-19'): unknown id")
    assert response.json()["error_count"] == 25 and len(response.json()["errors"]) == 20


async def test_a_rejected_file_does_not_block_the_fixed_one(env: InProcessApp) -> None:
    token = await env.token("alpha")
    assert (await env.upload(token, line("t9-9999"))).status_code == 422
    fixed = await env.upload(token, line("t1-0001"))
    assert fixed.status_code == 201
    assert fixed.json()["coverage"] == {"answered": 1, "total": 12}  # missing items score 0


# --- the size limit -------------------------------------------------------------------------


def multipart(boundary: str, data: bytes) -> list[bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="track"\r\n\r\nT1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jsonl"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return [head, data, f"\r\n--{boundary}--\r\n".encode()]


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    env: InProcessApp, settings: Settings
) -> None:
    token = await env.token("alpha")
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for part in multipart("b0undary", b"x" * 100_000):
            pulled += len(part)
            yield part

    response = await env.client.post(
        "/api/v1/submissions",
        content=body(),
        headers={
            **auth(token),
            "Content-Type": "multipart/form-data; boundary=b0undary",
            "Content-Length": str(10 * settings.max_upload_bytes),
        },
    )
    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    assert response.json()["error"]["message"].startswith(
        "the upload is larger than the 65,536-byte limit (MAX_UPLOAD_BYTES) and was not read "
        "further"
    )
    assert pulled == 0
    assert (await rows(env)) == ([], 0) and not settings.storage_dir.exists()


async def test_a_streamed_body_is_read_only_up_to_the_limit(
    env: InProcessApp, settings: Settings
) -> None:
    token = await env.token("alpha")
    limit, chunk = settings.max_upload_bytes, 4096
    total = 10 * limit
    pulled = 0

    async def body() -> AsyncIterator[bytes]:  # no Content-Length: chunked, 10x the limit
        nonlocal pulled
        head, _, tail = multipart("b0undary", b"")
        for part in [head, *(b"x" * chunk for _ in range(total // chunk)), tail]:
            pulled += len(part)
            yield part

    response = await env.client.post(
        "/api/v1/submissions",
        content=body(),
        headers={**auth(token), "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 413
    assert limit < pulled <= limit + 2 * chunk  # stopped at the first chunk past the limit
    assert (await rows(env)) == ([], 0)


async def test_the_decompressed_size_counts_too(env: InProcessApp, settings: Settings) -> None:
    token = await env.token("alpha")
    bomb = gzip.compress(line("t1-0001", "x" * 7000) * 20)  # ~140 kB inflated, ~1 kB sent
    assert len(bomb) < settings.max_upload_bytes
    response = await env.upload(token, bomb, filename="p.jsonl.gz")
    assert response.status_code == 413
    assert response.json()["error"]["message"] == (
        "the file decompresses to more than the 65,536-byte limit; split it into several "
        "uploads (one per track)"
    )
    assert (await rows(env)) == ([], 0) and env.queue.jobs == []
    async with env.sessions() as session:  # the whole unit of work was rolled back
        assert await session.scalar(select(func.count()).select_from(Model)) == 0


@pytest.mark.parametrize("track", [Track.T2])
async def test_missing_items_are_accepted_and_coverage_shown(
    env: InProcessApp, track: Track
) -> None:
    token = await env.token("alpha")
    response = await env.upload(token, line("t2-0001") + line("t2-0002"), track=track)
    assert response.status_code == 201
    assert response.json()["coverage"] == {"answered": 2, "total": 10}
