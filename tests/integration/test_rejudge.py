"""Rejudging end to end: PostgreSQL, Redis, an arq worker process, the stand-in judge over HTTP.

The stand-in's `/_standin/stats` counts the judge calls each step really made. Nothing sleeps
for a fixed time: every wait polls a condition against a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from app.config import Settings
from app.db.session import create_engine, create_session_factory
from app.rubrics.loader import bundled_rubric
from app.services.reported import seed_reported
from app.tracks import Track
from app.unit_of_work import transaction
from tests.integration.helpers import auth, demo_predictions, prepare_database, serve, team_token
from tests.support import StandinProcess, StartStandin, StartWorker, WorkerProcess, wait_until

pytestmark = pytest.mark.integration

T2_SOURCE = bundled_rubric(Track.T2).source
# A new prompt (every T2 request changes) and a new weight (the scores change).
T2_NEW = T2_SOURCE.replace("weight = 1", "weight = 3", 1).replace(
    "Do not reward length, confidence or style.",
    "Do not reward length, confidence, tone or style.",
)
SECRET = "rejudge-test-secret"


def variant(track: Track, tag: str, every: int = 1) -> bytes:
    """The demo predictions (every `every`-th), each with `tag` appended: its own requests."""
    records = [json.loads(line) for line in demo_predictions(track).decode().splitlines() if line]
    lines = [json.dumps({**r, "prediction": f"{r['prediction']} {tag}"}) for r in records[::every]]
    return ("\n".join(lines) + "\n").encode()


def answered(data: bytes) -> int:
    return sum(1 for line in data.decode().splitlines() if line.strip())


@dataclass
class Stack:
    client: httpx.Client
    judge: StandinProcess
    admin: str
    team: str
    database_url: str
    worker_env: dict[str, str]

    @property
    def judge_root(self) -> str:
        return f"http://127.0.0.1:{self.judge.port}"

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = httpx.get(f"{self.judge_root}/_standin/stats").json()
        return stats

    def control(self, **knobs: Any) -> None:
        response = httpx.post(f"{self.judge_root}/_standin/control", json=knobs)
        assert response.status_code == 200, response.text

    def admin_get(self, path: str) -> Any:
        response = self.client.get(f"/api/v1/admin{path}", headers=auth(self.admin))
        assert response.status_code == 200, response.text
        return response.json()

    def admin_post(self, path: str, body: Any = None) -> Any:
        response = self.client.post(f"/api/v1/admin{path}", json=body, headers=auth(self.admin))
        assert response.status_code in (200, 201), response.text
        return response.json()

    def submit(self, track: Track, model: str, data: bytes) -> int:
        response = self.client.post(
            "/api/v1/submissions",
            data={"track": track.value, "model": model},
            files={"file": (f"{track.value}.jsonl", data, "application/jsonl")},
            headers=auth(self.team),
        )
        assert response.status_code == 201, response.text
        submission_id: int = response.json()["id"]
        return submission_id

    def status(self, submission_id: int) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get(
            f"/api/v1/submissions/{submission_id}", headers=auth(self.team)
        ).json()
        return body

    def wait_scored(self, *ids: int, timeout: float = 60) -> None:
        latest: dict[str, Any] = {}

        def scored(sid: int) -> bool:
            nonlocal latest
            latest = self.status(sid)
            assert latest.get("status") != "failed", latest
            return latest.get("status") == "scored"

        for submission_id in ids:
            wait_until(
                lambda sid=submission_id: scored(sid),  # type: ignore[misc]
                timeout,
                0.05,
                lambda: f"submission scored: {latest}",
            )

    def publish(self, *ids: int) -> None:
        for submission_id in ids:
            response = self.client.post(
                f"/api/v1/submissions/{submission_id}/publish", headers=auth(self.team)
            )
            assert response.status_code == 200, response.text

    def wait_rejudge(self, rejudge_id: int, statuses: set[str], timeout: float = 60) -> Any:
        latest: dict[str, Any] = {}

        def reached() -> bool:
            nonlocal latest
            latest = self.admin_get(f"/rejudges/{rejudge_id}")
            return latest["status"] in statuses

        wait_until(reached, timeout, 0.05, lambda: f"rejudge {rejudge_id} in {statuses}: {latest}")
        return latest

    def board(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(model, track) -> cell for judged entries; ("reported", model) rows kept whole."""
        cells: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.client.get("/api/v1/leaderboard").json()["entries"]:
            if entry["kind"] == "reported":
                cells[("reported", entry["model"])] = entry["tracks"]
                continue
            for track, cell in entry["tracks"].items():
                cells[(entry["model"], track)] = cell
        return cells


@contextmanager
def stack(
    database_url: str,
    redis_url: str,
    judge: StandinProcess,
    start_worker: StartWorker,
    tmp_path: Path,
    **worker_env: str,
) -> Iterator[tuple[Stack, WorkerProcess]]:
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        storage_dir=tmp_path / "uploads",
        secret_key=SECRET,
        judge_base_url=judge.base_url,
        submissions_per_day=50,
        leaderboard_recheck_seconds=0,  # the board looks for changes on every read
        min_ranked_coverage=0.0,  # the fixtures publish half-answered files
    )
    prepare_database(settings)
    _seed_reported(database_url)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JUDGE_BASE_URL": judge.base_url,
        "STORAGE_DIR": str(settings.storage_dir.resolve()),
        "SECRET_KEY": SECRET,
        "JUDGE_BACKOFF_BASE_SECONDS": "0.01",
        # A lost job (e.g. taken by another test session's worker on a shared Redis) comes back
        # within a second: the reaper re-enqueues queued runs whose job is gone.
        "REAPER_INTERVAL_SECONDS": "1",
        **worker_env,
    }
    worker = start_worker(env)
    admin = team_token(database_url, "maintainers", admin=True)
    team = team_token(database_url, "alpha")
    with serve(settings) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield Stack(client, judge, admin, team, database_url, env), worker


def _seed_reported(database_url: str) -> None:
    async def run() -> None:
        engine = create_engine(database_url)
        try:
            async with transaction(create_session_factory(engine)) as session:
                await seed_reported(session)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_unchanged_rubric_costs_no_judge_call_and_a_new_t2_prompt_rejudges_only_t2(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    judge = start_standin()
    with stack(pg_clean, redis_clean, judge, start_worker, tmp_path, JUDGE_CONCURRENCY="4") as (
        s,
        _,
    ):
        files = {
            "model-a": variant(Track.T2, "(a)"),
            "model-b": variant(Track.T2, "(b)", every=2),
            "model-c": variant(Track.T2, "(c)", every=3),
        }
        t2 = {model: s.submit(Track.T2, model, data) for model, data in files.items()}
        t1 = s.submit(Track.T1, "model-a", demo_predictions(Track.T1))
        s.wait_scored(*t2.values(), t1)
        s.publish(*t2.values(), t1)
        before = s.board()
        reported = {k: v for k, v in before.items() if k[0] == "reported"}
        assert reported, "the paper's results are on the board"
        # 250 ms a call: the rescoring lasts seconds, so the board is surely read midway.
        s.control(reset_stats=True, latency_ms=250)

        # An unchanged rubric: every request is answered by the shared cache.
        for track in ("T1", "T2"):
            started = s.admin_post("/rejudges", {"track": track})
            done = s.wait_rejudge(started["id"], {"completed", "failed"})
            assert done["status"] == "completed" and done["switched"] is False, done
            assert done["progress"]["judge_calls"] == 0
            assert done["progress"]["cache_hits"] > 0
        assert s.stats()["requests"] == 0  # ZERO judge calls

        # A new T2 prompt: only T2 goes to the judge, the board switches only at the end.
        old_t2 = {m: before[(m, "T2")] for m in files}
        old_version = bundled_rubric(Track.T2).version
        new_version = s.admin_post("/rubrics", {"source": T2_NEW})["version"]
        started = s.admin_post("/rejudges", {"track": "T2", "rubric_version": new_version[:12]})
        observed_midway = 0
        latest: dict[str, Any] = {}

        def finished() -> bool:
            nonlocal observed_midway, latest
            board = s.board()
            latest = s.admin_get(f"/rejudges/{started['id']}")
            if latest["status"] == "running":  # so the board was read while it ran: old only
                for model, cell in old_t2.items():
                    assert board[(model, "T2")]["rubric_version"] == old_version
                    assert board[(model, "T2")]["score"] == pytest.approx(cell["score"])
                if latest["progress"]["submissions_done"] >= 1:
                    observed_midway += 1
            return bool(latest["status"] != "running")

        wait_until(finished, 60, 0.03, lambda: f"the T2 rejudge to finish: {latest}")
        assert latest["status"] == "completed" and latest["switched"] is True, latest
        assert observed_midway >= 1, "the board was read while some runs were already rescored"

        after = s.board()
        for model in files:
            cell = after[(model, "T2")]
            assert cell["rubric_version"] == new_version  # the new scores only
        assert after[("model-a", "T2")]["score"] != pytest.approx(old_t2["model-a"]["score"])
        assert after[("model-a", "T1")] == before[("model-a", "T1")]  # T1 untouched
        assert {k: v for k, v in after.items() if k[0] == "reported"} == reported
        t2_items = sum(answered(data) for data in files.values())
        assert latest["progress"]["judge_calls"] == t2_items == s.stats()["requests"]

        diff = s.admin_get(f"/rejudges/{started['id']}/diff")
        by_model = {e["model"]: e for e in diff["entries"]}
        for model in files:
            assert by_model[model]["old_score"] == pytest.approx(old_t2[model]["score"])
            assert by_model[model]["new_score"] == pytest.approx(after[(model, "T2")]["score"])
        assert sorted(e["new_rank"] for e in diff["entries"]) == [1, 2, 3]
        configs = _track_configs(pg_clean)
        assert configs["T2"] == new_version
        assert configs["T1"] == bundled_rubric(Track.T1).version


def _track_configs(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT track, rubric_version FROM track_configs").fetchall()
    return {track: version for track, version in rows}


def _run_results(database_url: str, rejudge_id: int) -> dict[int, tuple[Any, ...]]:
    """Per submission: the rejudge run's aggregate and its item ratings."""
    with psycopg.connect(database_url) as connection:
        runs = connection.execute(
            "SELECT r.id, r.submission_id, a.score, a.dimension_means, a.judge_error_count "
            "FROM evaluation_runs r JOIN run_aggregates a ON a.run_id = r.id "
            "WHERE r.rejudge_id = %s",
            (rejudge_id,),
        ).fetchall()
        results = {}
        for run_id, submission_id, score, means, errors in runs:
            items = connection.execute(
                "SELECT item_id, ratings, item_score FROM item_results WHERE run_id = %s "
                "ORDER BY item_id",
                (run_id,),
            ).fetchall()
            results[submission_id] = (score, means, errors, items)
    return results


def test_cancel_resume_and_a_worker_killed_finish_like_an_uninterrupted_rejudge(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    judge = start_standin()
    with stack(
        pg_clean,
        redis_clean,
        judge,
        start_worker,
        tmp_path,
        JUDGE_CONCURRENCY="2",
        RUN_BATCH_SIZE="2",
        RUN_STALE_AFTER_SECONDS="2",
    ) as (s, worker):
        ids = [s.submit(Track.T2, m, variant(Track.T2, f"({m})")) for m in ("m1", "m2", "m3")]
        s.wait_scored(*ids)
        s.publish(*ids)
        version = s.admin_post("/rubrics", {"source": T2_NEW})["version"]
        s.control(latency_ms=80)
        started = s.admin_post("/rejudges", {"track": "T2", "rubric_version": version})
        rid = started["id"]

        def progressed(at_least: int) -> bool:
            progress = s.admin_get(f"/rejudges/{rid}")["progress"]
            return bool(progress["items_done"] >= at_least)

        wait_until(lambda: progressed(4), 30, 0.03, "the rejudge to store some items")
        cancelled = s.admin_post(f"/rejudges/{rid}/cancel")
        assert cancelled["status"] == "cancelled"
        assert all(r["status"] in ("cancelled", "scored") for r in cancelled["runs"])
        assert s.board()[("m1", "T2")]["rubric_version"] != version

        resumed = s.admin_post(f"/rejudges/{rid}/resume")
        assert resumed["status"] == "running"
        done_at_resume = resumed["progress"]["items_done"]
        wait_until(lambda: progressed(done_at_resume + 3), 30, 0.03, "judging after the resume")
        worker.kill()  # mid-run: the reaper of the next worker hands its run to a new job
        start_worker(s.worker_env, name="second")
        final = s.wait_rejudge(rid, {"completed", "failed"}, timeout=60)
        assert final["status"] == "completed" and final["switched"] is True, final
        interrupted = _run_results(pg_clean, rid)
        assert len(interrupted) == 3
        for _, _, errors, items in interrupted.values():
            assert errors == 0 and len(items) == 10  # every item stored exactly once

        # The same rejudge, uninterrupted, with the judge cache emptied so it really re-asks.
        with psycopg.connect(pg_clean, autocommit=True) as connection:
            connection.execute("DELETE FROM judge_cache")
        s.control(latency_ms=0, reset_stats=True)
        again = s.admin_post("/rejudges", {"track": "T2", "rubric_version": version})
        straight = s.wait_rejudge(again["id"], {"completed", "failed"})
        assert straight["status"] == "completed", straight
        assert s.stats()["requests"] == 3 * 9
        assert _run_results(pg_clean, again["id"]) == interrupted


def test_rejudges_take_a_bounded_share_of_the_judge_and_uploads_keep_flowing(
    pg_clean: str,
    redis_clean: str,
    start_standin: StartStandin,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    judge = start_standin()
    # JUDGE_CONCURRENCY 4 × REJUDGE_JUDGE_SHARE 0.5: rejudge runs share 2 judge calls in flight,
    # and at most 2 of the worker's 4 job slots.
    with stack(pg_clean, redis_clean, judge, start_worker, tmp_path, JUDGE_CONCURRENCY="4") as (
        s,
        _,
    ):
        ids = [s.submit(Track.T2, m, variant(Track.T2, f"({m})")) for m in ("a", "b", "c", "d")]
        s.wait_scored(*ids)
        s.publish(*ids)
        version = s.admin_post("/rubrics", {"source": T2_NEW})["version"]
        s.control(latency_ms=300, reset_stats=True)
        rid = s.admin_post("/rejudges", {"track": "T2", "rubric_version": version})["id"]

        def rejudged(at_least: int) -> bool:
            return bool(s.admin_get(f"/rejudges/{rid}")["progress"]["items_done"] >= at_least)

        wait_until(lambda: rejudged(8), 30, 0.03, "the rejudge under way")
        view = s.admin_get(f"/rejudges/{rid}")
        assert sum(r["status"] in ("queued", "judging") for r in view["runs"]) <= 2
        assert s.stats()["max_in_flight"] <= 2  # the rejudge's share of the judge

        upload = s.submit(Track.T1, "newcomer", demo_predictions(Track.T1))
        s.wait_scored(upload, timeout=30)
        assert s.stats()["max_in_flight"] <= 4  # JUDGE_CONCURRENCY still bounds the process
        final = s.wait_rejudge(rid, {"completed", "failed"}, timeout=60)
        assert final["status"] == "completed" and final["switched"] is True
        # Read from the runs' own times, not from when this test happened to look.
        with psycopg.connect(pg_clean) as connection:
            upload_done, rejudge_done = connection.execute(
                "SELECT (SELECT max(finished_at) FROM evaluation_runs WHERE submission_id = %s),"
                " (SELECT max(finished_at) FROM evaluation_runs WHERE rejudge_id = %s)",
                (upload, rid),
            ).fetchone() or (None, None)
        assert upload_done < rejudge_done, "the new upload waited for the whole rejudge"
