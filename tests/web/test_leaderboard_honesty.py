"""Honest comparisons on the leaderboards: attempts behind a row, the judge of every judged row,
and the overview's ranking chosen by the visitor.

The world is `seed_small_world` (tests/leaderboard_fixture.py): Alpha-General has three scored
T2 submissions (a pinned published 40, a later published 44, a later private 99). This module
adds, for Alpha-General on T2, a rejected file, a submission whose only run was cancelled and a
second scored run (a rejudge) of the private submission: none of them is one more attempt.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import (
    EvaluationRun,
    Model,
    RunAggregate,
    Submission,
    SubmissionState,
    TrackConfig,
)
from app.judge import STANDIN_MODEL
from app.runs import RunStatus
from app.tracks import Track
from tests.leaderboard_fixture import BASE_TIME, ensure_gold_version
from tests.web.leaderboard_support import client_for, parse_csv, run_in_session, seed, settings_for

MARK = f"judged here by {STANDIN_MODEL}"


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path)


async def _submission(session: AsyncSession, model: str, track: Track, **fields: object) -> int:
    model_id = await session.scalar(select(Model.id).where(Model.name == model))
    assert model_id is not None
    when = BASE_TIME + timedelta(days=3)
    submission = Submission(
        model_id=model_id,
        track=track.value,
        gold_version_id=await ensure_gold_version(session),
        file_sha256=f"{len(str(fields)):064d}",
        filename="extra.jsonl",
        size_bytes=10,
        answered=20,
        total_items=20,
        uploaded_by="fixture",
        created_at=when,
        **fields,
    )
    session.add(submission)
    await session.flush()
    return submission.id


async def _run(session: AsyncSession, submission_id: int, track: Track, status: RunStatus) -> int:
    config = await session.get(TrackConfig, track.value)
    assert config is not None
    run = EvaluationRun(
        submission_id=submission_id,
        rubric_version=config.rubric_version,
        judge_model_id=config.judge_model_id,
        status=status.value,
        items_total=20,
        items_done=20 if status == RunStatus.SCORED else 3,
    )
    session.add(run)
    await session.flush()
    return run.id


@pytest.fixture
async def world(settings: Settings) -> dict[str, int]:
    ids = await seed(settings)

    async def extra(session: AsyncSession) -> None:
        # A rejected file: never queued, never scored.
        await _submission(
            session, "Alpha-General", Track.T2, state=SubmissionState.REJECTED.value, error_count=2
        )
        # A valid file whose only run was cancelled before it was scored.
        cancelled = await _submission(session, "Alpha-General", Track.T2)
        await _run(session, cancelled, Track.T2, RunStatus.CANCELLED)
        # A rejudge of the private submission: a second scored run of the same submission.
        rerun = await _run(session, ids["Alpha-General/T2/private"], Track.T2, RunStatus.SCORED)
        session.add(
            RunAggregate(
                run_id=rerun,
                score=98.0,
                dimension_means={},
                item_count=20,
                answered_count=20,
                judge_error_count=0,
                truncated_count=0,
                computed_at=BASE_TIME + timedelta(days=4),
            )
        )

    await run_in_session(settings, extra)
    return ids


# --- attempts ------------------------------------------------------------------------------


async def test_attempts_count_scored_submissions_private_ones_included(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        track = (await client.get("/api/v1/tracks/T2", params={"all": "true"})).json()
        overview = (await client.get("/api/v1/leaderboard", params={"all": "true"})).json()
    rows = {f"{e['kind']}:{e['model']}": e for e in track["entries"]}
    # Pinned 40 + published 44 + private 99 (rejudged once more); not the rejected file nor
    # the cancelled one.
    assert rows["judged:Alpha-General"]["attempts"] == 3
    assert rows["judged:Alpha-General"]["score"] == 40.0  # the pinned one is still shown
    assert rows["judged:Beta-Closed"]["attempts"] == 1
    reported = [e for e in track["entries"] if e["kind"] == "reported"]
    assert reported and all(e["attempts"] is None for e in reported)

    entries = {f"{e['kind']}:{e['model']}": e for e in overview["entries"]}
    alpha = entries["judged:Alpha-General"]
    assert alpha["attempts"] == {"T1": 1, "T2": 3, "T3": 1, "T4": 1}
    assert alpha["tracks"]["T2"]["attempts"] == 3
    assert entries["judged:Delta-Unified"]["attempts"] == {"T1": 1, "T2": 1}
    assert all(e["attempts"] is None for e in overview["entries"] if e["kind"] == "reported")


async def test_attempts_in_the_csv_exports(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        track = parse_csv((await client.get("/tracks/T2", params={"format": "csv"})).text)
        overview = parse_csv((await client.get("/api/v1/leaderboard?format=csv")).text)
    by_row = {(r["kind"], r["model"]): r for r in track}
    assert by_row[("judged", "Alpha-General")]["attempts"] == "3"
    assert by_row[("judged", "Alpha-General")]["judge"] == STANDIN_MODEL
    assert by_row[("reported", "GPT-5")]["attempts"] == ""
    assert by_row[("reported", "GPT-5")]["judge"] == ""
    rows = {(r["kind"], r["model"]): r for r in overview}
    alpha = rows[("judged", "Alpha-General")]
    assert (alpha["T1_attempts"], alpha["T2_attempts"]) == ("1", "3")
    assert alpha["judges"] == STANDIN_MODEL
    assert (
        rows[("reported", "GPT-5")]["T2_attempts"] == ""
        and rows[("reported", "GPT-5")]["judges"] == ""
    )


async def test_track_page_shows_attempts_and_why(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/tracks/T2", params={"q": "Alpha"})).text
    assert "best of 3 scored submissions" in html
    assert 'id="attempts-note"' in html
    assert "publish only the best" in html  # the one-line reason


async def test_model_page_shows_attempts_and_links_the_cards(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/models/Alpha-General")).text
        page = (await client.get("/api/v1/leaderboard/models/Alpha-General")).json()
        scores_csv = parse_csv(
            (await client.get("/models/Alpha-General", params={"format": "csv"})).text
        )
    judged = {s["track"]: s for s in page["scores"] if s["kind"] == "judged"}
    assert judged["T2"]["attempts"] == 3 and judged["T1"]["attempts"] == 1
    assert judged["T2"]["judge"] == STANDIN_MODEL
    t2_card = judged["T2"]["provenance_url"]
    assert t2_card is not None and t2_card.endswith("/provenance.json")
    assert [s["attempts"] for s in page["scores"] if s["kind"] == "reported"] in ([], [None] * 4)
    history = page["history"]  # published submissions only: the private one is not listed
    assert len(history) == 5 and all(h["provenance_url"] for h in history)
    assert {row["track"]: row["attempts"] for row in scores_csv}["T2"] == "3"
    assert "best of 3" in html and 'id="attempts-note"' in html
    for h in history:
        assert f'href="{h["provenance_url"]}" download' in html
    async with client_for(settings) as client:
        card = await client.get(t2_card)
    assert card.status_code == 200 and card.json()["provenance"]["track"] == "T2"


# --- the judge of every judged row ----------------------------------------------------------


async def test_every_judged_row_names_its_judge(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        track = (await client.get("/api/v1/tracks/T1", params={"all": "true"})).json()
        overview = (await client.get("/api/v1/leaderboard", params={"all": "true"})).json()
        track_html = (await client.get("/tracks/T1", params={"all": "true"})).text
        overview_html = (await client.get("/", params={"all": "true"})).text
    for entry in track["entries"]:
        if entry["kind"] == "judged":
            assert entry["judge"] == STANDIN_MODEL and entry["judge_is_reference"] is True
        else:
            assert entry["judge"] is None and entry["judge_is_reference"] is False
    for entry in overview["entries"]:
        judged = entry["kind"] == "judged"
        assert entry["judges"] == ([STANDIN_MODEL] if judged else [])
        for cell in entry["tracks"].values():
            assert cell["judge"] == (STANDIN_MODEL if judged else None)
    judged_rows = sum(1 for e in track["entries"] if e["kind"] == "judged")
    for html, rows in ((track_html, judged_rows), (overview_html, 4)):
        # The diamond and the judge's name on each judged row, never on a reported one.
        assert html.count(f"◆ {MARK}</span>") == rows
        assert html.count('<span class="badge reference"') >= rows


# --- the overview's ranking -----------------------------------------------------------------


async def test_the_overview_ranks_by_the_chosen_track(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        by_mean = (await client.get("/api/v1/leaderboard", params={"kind": "judged"})).json()
        by_t4 = (
            await client.get("/api/v1/leaderboard", params={"kind": "judged", "rank_by": "T4"})
        ).json()
        html = (await client.get("/", params={"kind": "judged", "rank_by": "T4"})).text
    assert by_mean["rank_by"] == "mean"
    assert by_mean["rank_by_options"] == ["T1", "T2", "T3", "T4", "mean"]
    assert [e["model"] for e in by_mean["entries"]][:3] == [
        "Beta-Closed",
        "Alpha-General",
        "Gamma-Med",
    ]
    assert by_t4["rank_by"] == "T4"
    # T4: Beta 80, Gamma 75, Alpha 70; Delta has no T4 score and is unranked.
    assert [(e["model"], e["rank"]) for e in by_t4["entries"]] == [
        ("Beta-Closed", 1),
        ("Gamma-Med", 2),
        ("Alpha-General", 3),
        ("Delta-Unified", None),
    ]
    assert "Ranked by the T4 examination suggestion score" in html
    chooser = html.split('id="rank-by"', 1)[1].split("</p>", 1)[0]
    assert '<a href="/?rank_by=T1&amp;kind=judged">T1</a>' in chooser  # each choice: a permalink
    assert '<a href="/?kind=judged">mean</a>' in chooser  # the default needs no parameter
    assert '<strong aria-current="true">T4</strong>' in chooser
    assert 'href="/api/v1/leaderboard?rank_by=T4&amp;kind=judged&amp;format=csv"' in html


@pytest.mark.parametrize("path", ["/api/v1/leaderboard", "/"])
async def test_an_unknown_ranking_is_refused_clearly(
    settings: Settings, world: dict[str, int], path: str
) -> None:
    async with client_for(settings) as client:
        response = await client.get(path, params={"rank_by": "median"})
    assert response.status_code == 422
    message = "rank_by must be one of T1, T2, T3, T4, mean, not &#39;median&#39;"
    if path == "/":
        assert response.headers["content-type"].startswith("text/html")
        assert message in response.text
    else:
        assert response.headers["content-type"].startswith("application/json")
        assert message.replace("&#39;", "'") in response.text


async def test_the_judge_page_is_in_the_navigation(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        pages = [await client.get(p) for p in ("/", "/tracks/T1", "/analysis/judge", "/submit")]
    for page in pages:
        assert page.status_code == 200
        nav = page.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
        assert '<a href="/analysis/judge">Judge</a>' in nav
