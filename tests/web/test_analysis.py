"""The domain-gap and consistency pages: the paper's Sec. 4.2–4.3 numbers from the seeded entries,
hand-computed gaps for the small judged world, paired intervals and their cache.

Judged world (see tests/web/test_leaderboard.py): best medical Gamma-Med, best open general
Alpha-General, best closed Beta-Closed on every track but T4-medical, which Gamma wins.

    track  medical  open general  closed  gap vs open  gap vs closed
    T1     58       60            70       2.0          12.0
    T2     20       40 (pinned)   45      20.0          25.0
    T3     30       50            65      20.0          35.0
    T4     75       70            80      −5.0           5.0

Capacity dilution = 20.0 − 2.0 = 18.0. Only Alpha and Gamma have T1 item rows (30 and 29 of 50
items right, the first ones), so only the T1 open-model gap gets a paired interval.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ItemResult, PairedGap
from app.judge import STANDIN_MODEL
from app.leaderboard.board import Board
from app.leaderboard.table import EntryFilter
from app.scoring.bootstrap import paired_bootstrap_gap
from app.scoring.ranking import spearman
from app.services import leaderboard as service
from app.services.analysis import consistency_view
from app.tracks import Track
from app.web.pages.analysis import consistency_context
from app.web.views.analysis import AnalysisParams
from tests.web.leaderboard_support import client_for, run_in_session, seed, settings_for

# The small judged world is judged by the stand-in: its own view, apart from the paper's.
JUDGED_VIEW = {"source": f"judge:{STANDIN_MODEL}"}


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path)


@pytest.fixture
async def world(settings: Settings) -> dict[str, int]:
    return await seed(settings)


async def test_reported_entries_reproduce_section_4_2(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/analysis/domain-gap", params={"kind": "reported"})).json()
        html = (await client.get("/analysis/domain-gap", params={"kind": "reported"})).text
    tracks = {t["track"]: t for t in body["tracks"]}
    t1, t3 = tracks["T1"], tracks["T3"]
    assert t1["vs_open"]["medical"]["model"] == "Hulu-Med-14B"
    assert t1["vs_open"]["other"]["model"] == "Qwen3-VL-235B-Instruct"
    assert t1["vs_open"]["gap"] == pytest.approx(6.1)
    assert t3["vs_open"]["medical"]["model"] == "Medgemma-27b-it"
    assert t3["vs_open"]["gap"] == pytest.approx(29.3)
    assert t3["vs_closed"]["other"]["model"] == "GPT-5"
    assert t3["vs_closed"]["gap"] == pytest.approx(43.5)
    assert body["capacity_dilution"] == pytest.approx(23.2)
    assert t1["vs_open"]["paired"] is None  # reported: no items to pair
    assert body["entries"] == 23
    assert t3["finding"] == (
        "On T3, the best medical model (Medgemma-27b-it, 27.3) trails the best open "
        "general-purpose model (Qwen3-VL-235B-Instruct, 56.6) by 29.3 points and the best "
        "closed model (GPT-5, 70.8) by 43.5 points."
    )
    assert "29.3 − 6.1 = <strong>23.2</strong> points" in html
    assert t3["finding"] in html
    # Why a gap has no paired interval is said once, in a numbered note under the tables.
    note = "No paired interval: reported scores have no per-item results to pair</li>"
    assert html.count(note) == 1 and html.count("no paired interval<sup>") == 8


async def test_judged_gaps_and_distributions(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/analysis/domain-gap", params=JUDGED_VIEW)).json()
    tracks = {t["track"]: t for t in body["tracks"]}
    gaps = {name: (t["vs_open"]["gap"], t["vs_closed"]["gap"]) for name, t in tracks.items()}
    assert gaps == {
        "T1": (pytest.approx(2.0), pytest.approx(12.0)),
        "T2": (pytest.approx(20.0), pytest.approx(25.0)),
        "T3": (pytest.approx(20.0), pytest.approx(35.0)),
        "T4": (pytest.approx(-5.0), pytest.approx(5.0)),
    }
    assert body["capacity_dilution"] == pytest.approx(18.0)
    assert tracks["T2"]["vs_open"]["other"]["score"] == 40.0  # the pinned submission
    assert tracks["T4"]["finding"] == (
        "On T4, the best medical model (Gamma-Med, 75.0) leads the best open general-purpose "
        "model (Alpha-General, 70.0) by 5.0 points but trails the best closed model "
        "(Beta-Closed, 80.0) by 5.0 points."
    )
    assert tracks["T1"]["peak_general"]["model"] == "Beta-Closed"
    general, medical = tracks["T1"]["general"], tracks["T1"]["medical"]
    assert [s["model"] for s in general["scores"]] == ["Beta-Closed", "Alpha-General"]
    assert (general["minimum"], general["q1"], general["median"]) == (60.0, 62.5, 65.0)
    assert (general["q3"], general["maximum"]) == (67.5, 70.0)
    assert (medical["minimum"], medical["q1"], medical["median"]) == (40.0, 44.5, 49.0)
    assert [s["model"] for s in tracks["T3"]["medical"]["scores"]] == ["Gamma-Med"]  # Delta: no T3


async def test_paired_interval_is_computed_once_and_kept(
    settings: Settings, world: dict[str, int]
) -> None:
    alpha = [1.0] * 30 + [0.0] * 20
    gamma = [1.0] * 29 + [0.0] * 21
    expected = paired_bootstrap_gap(
        alpha, gamma, resamples=settings.bootstrap_resamples, seed=settings.bootstrap_seed
    )
    async with client_for(settings) as client:
        first = (await client.get("/api/v1/analysis/domain-gap", params=JUDGED_VIEW)).json()
        html = (await client.get("/analysis/domain-gap", params=JUDGED_VIEW)).text
    t1 = next(t for t in first["tracks"] if t["track"] == "T1")
    paired = t1["vs_open"]["paired"]
    assert (paired["gap"], paired["ci_low"], paired["ci_high"]) == pytest.approx(expected)
    assert paired["items"] == 50
    assert t1["vs_closed"]["paired"] is None  # Beta-Closed has no item rows
    assert "(50 items)" in html and "No paired interval: no shared scored items</li>" in html

    async def stored(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(PairedGap)) or 0)

    async def forget_items(session: AsyncSession) -> None:
        await session.execute(delete(ItemResult))

    assert await run_in_session(settings, stored) == 1
    await run_in_session(settings, forget_items)
    async with client_for(settings) as client:  # a new process: empty in-memory caches
        again = (await client.get("/api/v1/analysis/domain-gap", params=JUDGED_VIEW)).json()
    t1_again = next(t for t in again["tracks"] if t["track"] == "T1")
    assert t1_again["vs_open"]["paired"] == paired  # from paired_gaps, not from item rows


async def test_consistency_judged_world(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/analysis/consistency", params=JUDGED_VIEW)).json()
        html = (await client.get("/analysis/consistency", params=JUDGED_VIEW)).text
    rho = {(c["a"], c["b"]): (c["rho"], c["n"]) for c in body["correlations"]}
    # Same order on T1, T2, T3; T4 swaps Alpha and Gamma: 1 − 6·(1 + 1)/(3·(9 − 1)) = 0.5.
    assert rho == {
        ("T1", "T2"): (pytest.approx(1.0), 4),
        ("T1", "T3"): (pytest.approx(1.0), 3),
        ("T1", "T4"): (pytest.approx(0.5), 3),
        ("T2", "T3"): (pytest.approx(1.0), 3),
        ("T2", "T4"): (pytest.approx(0.5), 3),
        ("T3", "T4"): (pytest.approx(0.5), 3),
    }
    assert body["firsts"][0] == {
        "model": "Beta-Closed",
        "kind": "judged",
        "count": 4,
        "tracks": ["T1", "T2", "T3", "T4"],
        "judges": [STANDIN_MODEL],
    }
    assert body["max_firsts"] == 4
    assert "Beta-Closed ranks first on 4 tracks." in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="correlation-chart"' in html


async def test_no_reported_model_ranks_first_on_more_than_two_tracks(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        body = (
            await client.get("/api/v1/analysis/consistency", params={"kind": "reported"})
        ).json()
        html = (await client.get("/analysis/consistency", params={"kind": "reported"})).text
    assert body["max_firsts"] == 2
    assert body["leaders"] == {
        "T1": ["Gemini-3-Flash-Preview"],
        "T2": ["GPT-5"],
        "T3": ["GPT-5"],
        "T4": ["Claude-Sonnet-4.5"],
    }
    assert "No entry ranks first on more than two tracks (the most is 2)." in html
    overview = await _reported_scores(settings)
    t1 = [row[0] for row in overview]
    t3 = [row[2] for row in overview]
    rho = next(c for c in body["correlations"] if (c["a"], c["b"]) == ("T1", "T3"))
    assert rho["n"] == 23 and rho["rho"] == pytest.approx(spearman(t1, t3))


async def _reported_scores(settings: Settings) -> list[tuple[float, ...]]:
    async def build(session: AsyncSession) -> list[tuple[float, ...]]:
        board = await service.build_board(session)
        return [
            tuple(entry.score(t) or 0.0 for t in Track)
            for entry in board.entries
            if entry.kind == "reported"
        ]

    result: list[tuple[float, ...]] = await run_in_session(settings, build)
    return result


async def test_consistency_context(settings: Settings, world: dict[str, int]) -> None:
    async def build(session: AsyncSession) -> Board:
        return await service.build_board(session)

    board = await run_in_session(settings, build)
    view = consistency_view(board, EntryFilter(kind="reported"))
    context = consistency_context(board, view, AnalysisParams(kind="reported"))
    assert [f.entry.model for f in context["firsts"]] == [
        "GPT-5",
        "Claude-Sonnet-4.5",
        "Gemini-3-Flash-Preview",
    ]
    assert context["others"] == 20
    assert "Spearman rank correlation between tracks" in str(context["grid"])


async def test_domain_gap_page_draws_both_charts(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/analysis/domain-gap", params=JUDGED_VIEW)).text
    assert html.count("<svg") == 4  # each chart drawn wide and compact (for a phone)
    assert html.count('<div class="chart-compact">') == 2
    assert '<title id="peak-chart-title">Peak general-purpose vs peak medical score' in html
    assert '<desc id="distribution-chart-desc">Points over box plots' in html
    assert "Score (0–100)" in html  # the value axis label
    assert ">best open general-purpose</text>" in html  # the legend
    assert "T3, best medical: Gamma-Med, 30.0" in html  # a bar's tooltip
    assert '<circle class="point"' in html
