"""Helpers shared by the end-to-end tests: preparing a database, serving the app on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.config import Settings
from app.db.session import create_engine, create_session_factory, unit_of_work
from app.demo.run import demo_dir
from app.services.configuration import ensure_track_configuration
from app.services.gold_import import import_gold_bundle
from app.tracks import Track
from app.web.app import create_app
from tests.support import free_port, wait_until

DEMO_GOLD = demo_dir() / "gold.jsonl"
DEMO_PREDICTIONS = demo_dir() / "predictions"


def prepare_database(settings: Settings, bundle: Path = DEMO_GOLD) -> None:
    """Register the rubrics and judge, and import a gold bundle (as `mmrare` commands would)."""

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                await ensure_track_configuration(session, settings)
                await import_gold_bundle(session, bundle)
        finally:
            await engine.dispose()

    asyncio.run(run())


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a loopback port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, message="the API to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def upload(
    client: httpx.Client, track: Track, data: bytes, *, model: str = "demo-model", **form: Any
) -> httpx.Response:
    return client.post(
        "/api/v1/submissions",
        data={"track": track.value, "model": model, **form},
        files={"file": (f"{track.value}.jsonl", data, "application/jsonl")},
    )


def demo_predictions(track: Track) -> bytes:
    return (DEMO_PREDICTIONS / f"{track.value}.jsonl").read_bytes()


def wait_for_status(
    client: httpx.Client, submission_id: int, statuses: set[str], timeout: float = 60
) -> dict[str, Any]:
    latest: dict[str, Any] = {}

    def reached() -> bool:
        nonlocal latest
        latest = client.get(f"/api/v1/submissions/{submission_id}").json()
        return latest.get("status") in statuses

    wait_until(
        reached, timeout, message=lambda: f"submission {submission_id} in {statuses}: {latest}"
    )
    return latest
