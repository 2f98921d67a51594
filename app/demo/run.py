"""`mmrare demo`: the embedded default, wired together (every step is also a command of its own).

Migrate the SQLite database, import the synthetic demo gold set and the paper's results, start
the reference judge and the service with in-process jobs. With --smoke, also submit the sample
predictions, wait until they are scored, print the leaderboard and exit (non-zero on failure).
"""

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.config import Settings
from app.db.migrate import upgrade
from app.db.session import create_engine, create_session_factory
from app.judge import STANDIN_MODEL
from app.ports import PortBusy, is_free, require_free
from app.repositories.accounts import get_team_by_name
from app.resources import resource_path
from app.services.accounts import create_team, create_token
from app.services.configuration import ensure_track_configuration
from app.services.gold_import import import_gold_bundle
from app.services.reported import seed_reported
from app.storage import build_store
from app.tracks import Track
from app.unit_of_work import transaction
from app.web.app import create_app

SMOKE_TIMEOUT_SECONDS = 300.0
DEMO_TEAM = "demo"


def demo_dir() -> Path:
    return resource_path("demo")


async def prepare(settings: Settings) -> str:
    """Set up the demo data and the "demo" team; returns a fresh API token of that team."""
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            await ensure_track_configuration(session, settings)
            gold = await import_gold_bundle(
                session, build_store(settings), demo_dir() / "gold.jsonl"
            )
            seeded = await seed_reported(session)
            if await get_team_by_name(session, DEMO_TEAM) is None:
                await create_team(session, DEMO_TEAM, actor="demo")
            token, _ = await create_token(session, DEMO_TEAM, admin=False, actor="demo")
        print(f"demo gold set: {gold.item_count} synthetic items (gold version {gold.version_id})")
        print(f"paper results: {seeded.created} added, {seeded.updated} updated")
        print(f"team {DEMO_TEAM!r} API token (for /submit and `mmrare submit`): {token}")
        return token
    finally:
        await engine.dispose()


def is_our_standin(base_url: str) -> bool:
    """Does `base_url` answer as the MMRareBench stand-in judge: its one model listed at
    /v1/models and its own /_standin/stats? Anything else on the judge port is not ours."""
    try:
        with httpx.Client(base_url=base_url, timeout=2, trust_env=False) as client:
            models = client.get("/v1/models")
            stats = client.get("/_standin/stats")
            listed = [m.get("id") for m in models.json().get("data", [])]
            return (
                models.status_code == 200
                and listed == [STANDIN_MODEL]
                and stats.status_code == 200
                and "requests" in stats.json()
            )
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def judge_port_in_use(host: str, port: int) -> bool:
    """True when one of our stand-in judges already listens on `port` (the demo uses it); False
    when the port is free. Anything else there is refused: the demo never sends its items to an
    unknown service."""
    if is_free(host, port):
        return False
    if is_our_standin(f"http://{host}:{port}"):
        return True
    raise PortBusy(
        f"port {port} is in use by something that is not the MMRareBench stand-in judge, and "
        "the demo will not send its items there; stop it, or choose another judge port with "
        "--judge-port N"
    )


def start_standin(host: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app.standin", "--host", host, "--port", str(port)]
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PortBusy(
                f"the reference judge exited at start-up on port {port}; choose another judge "
                "port with --judge-port N"
            )
        if is_our_standin(f"http://{host}:{port}"):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the reference judge did not answer on port {port} within 20 s")


async def smoke(base_url: str, token: str) -> int:
    """Submit and publish each track's sample predictions, wait for scores, print the board."""
    samples = demo_dir() / "predictions"
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:
        ids: dict[Track, int] = {}
        for track in Track:
            path = samples / f"{track.value}.jsonl"
            response = await client.post(
                "/api/v1/submissions",
                data={"track": track.value, "model": "demo-sample-model"},
                files={"file": (path.name, path.read_bytes(), "application/jsonl")},
            )
            if response.status_code not in (200, 201):
                print(f"upload of {path.name} failed: {response.status_code} {response.text}")
                return 1
            ids[track] = response.json()["id"]
            published = await client.post(f"/api/v1/submissions/{ids[track]}/publish")
            if published.status_code != 200:
                print(f"publishing {path.name} failed: {published.status_code} {published.text}")
                return 1
        deadline = time.monotonic() + SMOKE_TIMEOUT_SECONDS
        pending = dict(ids)
        while pending:
            if time.monotonic() > deadline:
                print(f"timed out waiting for submissions {sorted(pending.values())}")
                return 1
            for track, submission_id in list(pending.items()):
                status = (await client.get(f"/api/v1/submissions/{submission_id}")).json()
                if status["status"] == "scored":
                    result = status["result"]
                    f1 = f", F1 {result['f1']:.1f}" if result["f1"] is not None else ""
                    print(
                        f"{track}: scored {result['score']:.1f}{f1} (judge {status['judge_model']})"
                    )
                    del pending[track]
                elif status["status"] in ("failed", "cancelled"):
                    print(f"{track}: {status['status']}: {status['failure']}")
                    return 1
            await asyncio.sleep(0.2)
        board = (await client.get("/api/v1/leaderboard")).json()
    print_board(board["entries"])
    return 0


def _cell(tracks: dict[str, Any], track: str, key: str = "score") -> str:
    value = tracks.get(track, {}).get(key)
    return "–" if value is None else f"{value:.1f}"


def print_board(entries: list[dict[str, Any]]) -> None:
    header = ("#", "model", "kind", "T1", "F1", "T2", "T3", "T4", "mean")
    print("\n{:>3}  {:<28} {:<9} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}".format(*header))
    for entry in entries:
        tracks = entry["tracks"]
        mean = "–" if entry["mean"] is None else f"{entry['mean']:.1f}"
        cells = [_cell(tracks, "T1"), _cell(tracks, "T1", "f1")]
        cells += [_cell(tracks, t) for t in ("T2", "T3", "T4")]
        print(
            "{:>3}  {:<28} {:<9} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}".format(
                entry["rank"], entry["model"], entry["kind"], *cells, mean
            )
        )


async def serve(settings: Settings, host: str, port: int, smoke_run: bool, token: str) -> int:
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            print(f"the service could not start on {host}:{port} (port taken?)")
            return 1
        await asyncio.sleep(0.05)
    url = f"http://{host}:{port}"
    print(f"MMRareBench leaderboard running at {url}  (Ctrl-C stops it)", flush=True)
    if not smoke_run:
        await task
        return 0
    try:
        return await smoke(url, token)
    finally:
        server.should_exit = True
        await task


def run_demo(settings: Settings, *, host: str, port: int, judge_port: int, smoke: bool) -> int:
    settings = settings.model_copy(
        update={
            "redis_url": None,  # the embedded default: jobs run inside this process
            "judge_base_url": f"http://127.0.0.1:{judge_port}/v1",
            "judge_model": STANDIN_MODEL,
        }
    )
    # Both ports are checked before any work, so a busy one is a single line.
    require_free(host, port, "--port")
    reuse_judge = judge_port_in_use("127.0.0.1", judge_port)
    upgrade(settings.database_url)
    token = asyncio.run(prepare(settings))
    judge = None if reuse_judge else start_standin("127.0.0.1", judge_port)
    running = "already running, used" if reuse_judge else "started"
    print(f"reference judge ({STANDIN_MODEL}, a lexical stand-in) on port {judge_port}: {running}")
    try:
        return asyncio.run(serve(settings, host, port, smoke, token))
    except KeyboardInterrupt:
        return 0
    finally:
        if judge is not None:
            judge.terminate()
            judge.wait(timeout=10)
