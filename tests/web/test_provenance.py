"""A scored run's evaluation card: `/api/v1/runs/{id}/provenance.json`, from what the run stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import EvaluationRun
from app.judge import STANDIN_MODEL
from app.services.configuration import active_pair, load_rubric
from app.services.provenance import prompt_template_digest
from app.tracks import Track
from tests.leaderboard_fixture import JudgedSpec, ModelSpec, add_judged, ensure_model
from tests.web.leaderboard_support import client_for, run_in_session, seed, settings_for

JUDGE_URL = "http://judge.internal.example:8090/v1"
JUDGE_KEY = "sk-judge-secret-123"


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path, judge_base_url=JUDGE_URL, judge_api_key=JUDGE_KEY)


@pytest.fixture
async def runs(settings: Settings) -> dict[str, int]:
    await seed(settings, reported=False, world=False)

    async def work(session: AsyncSession) -> dict[str, int]:
        await ensure_model(session, ModelSpec("Card-Model", medical=True))
        submission, public = await add_judged(session, JudgedSpec("Card-Model", Track.T4, 61.0))
        _, private = await add_judged(
            session, JudgedSpec("Card-Model", Track.T2, 40.0, published=False)
        )
        _, old = await add_judged(session, JudgedSpec("Card-Model", Track.T3, 30.0))
        for run_id in (public, private):
            await session.execute(
                update(EvaluationRun)
                .where(EvaluationRun.id == run_id)
                .values(
                    judge_sampling={"temperature": 0, "seed": 77, "max_tokens": 300},
                    software_version="9.9.9",
                )
            )
        return {
            "public": public,
            "submission": submission,
            "private": private,
            "old": old,
        }

    result: dict[str, int] = await run_in_session(settings, work)
    return result


async def _t4_rubric(settings: Settings) -> tuple[str, str]:
    async def work(session: AsyncSession) -> tuple[str, str]:
        version = (await active_pair(session, Track.T4)).rubric_version
        rubric = await load_rubric(session, version)
        return version, prompt_template_digest(rubric.prompt.system, rubric.prompt.user)

    result: tuple[str, str] = await run_in_session(settings, work)
    return result


async def test_a_published_runs_card_is_public_and_complete(
    settings: Settings, runs: dict[str, int]
) -> None:
    version, digest = await _t4_rubric(settings)
    async with client_for(settings) as client:
        response = await client.get(f"/api/v1/runs/{runs['public']}/provenance.json")
        model_page = (await client.get("/models/Card-Model")).text
        status = (await client.get(f"/api/v1/submissions/{runs['submission']}")).json()
        status_page = (await client.get(f"/submissions/{runs['submission']}")).text
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="run-{runs["public"]}-provenance.json"'
    )
    card = response.json()["provenance"]
    assert card["run_id"] == runs["public"] and card["track"] == "T4"
    assert card["judge_model"] == STANDIN_MODEL and card["judge_is_reference"] is True
    assert card["rubric_version"] == version and len(version) == 64
    assert card["prompt_template_sha256"] == digest and digest != version
    assert card["sampling"] == {"temperature": 0, "seed": 77, "max_tokens": 300}
    assert card["software_version"] == "9.9.9"
    assert set(card["gold_version"]) == {"id", "digest", "imported_at"}
    assert card["judged_at"] is not None
    text = response.text
    assert "judge.internal.example" not in text and JUDGE_KEY not in text and "8090" not in text
    link = f"/api/v1/runs/{runs['public']}/provenance.json"
    assert f'href="{link}" download' in model_page
    assert status["provenance_url"] == link
    assert f'href="{link}" download>evaluation card (JSON)</a>' in status_page


async def test_a_run_judged_before_recording_says_so(
    settings: Settings, runs: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        card = (await client.get(f"/api/v1/runs/{runs['old']}/provenance.json")).json()
    assert card["provenance"]["sampling"] is None
    assert card["provenance"]["software_version"] is None


async def test_a_private_runs_card_is_hidden_and_other_states_refused(
    settings: Settings, runs: dict[str, int]
) -> None:
    async def unscore(session: AsyncSession) -> None:
        await session.execute(
            update(EvaluationRun).where(EvaluationRun.id == runs["old"]).values(status="judging")
        )

    async with client_for(settings) as client:
        private = await client.get(f"/api/v1/runs/{runs['private']}/provenance.json")
        missing = await client.get("/api/v1/runs/999999/provenance.json")
        await run_in_session(settings, unscore)
        judging = await client.get(f"/api/v1/runs/{runs['old']}/provenance.json")
    assert private.status_code == 404 and "key=" in private.json()["error"]["message"]
    assert missing.status_code == 404
    assert judging.status_code == 409
    assert "is judging" in judging.json()["error"]["message"]
