"""The overview and track pages against hand-computed numbers.

The world (tests/leaderboard_fixture.py, `seed_small_world`) is four judged models plus the
paper's 23 reported entries:

    model          group            T1 (lo–hi)      F1   T2            T3            T4
    Alpha-General  open general     60 (52–68)      70   40 (32–48)*   50 (42–58)    70 (66–82)
    Beta-Closed    closed           70 (68–72)      75   45 (43–47)    65 (63–67)    80 (78–82)
    Gamma-Med      medical          58 (50–66)      60   20 (15–25)    30 (25–35)    75 (70–80)
    Delta-Unified  medical unified  40 (35–45)      45   15 (10–20)    –             –

    * pinned; a later published submission scored 44, a later private one 99.

Means (all four tracks): Alpha (60+40+50+70)/4 = 55.0, Beta (70+45+65+80)/4 = 65.0,
Gamma (58+20+30+75)/4 = 45.75; Delta has none. Mean intervals (mean of the bounds):
Alpha (52+32+42+66)/4 = 48 to (68+48+58+82)/4 = 64; Beta 63 to 67; Gamma 40 to 51.5.
Rank ranges among the three judged: Beta (1, 2) (only Gamma lies wholly below it), Alpha (1, 3)
(its interval touches both), Gamma (2, 3) (Beta lies wholly above it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import RunAggregate
from app.leaderboard.board import Board
from app.leaderboard.table import EntryFilter, TableQuery, overview_table, track_table
from app.services import leaderboard as service
from app.tracks import Track
from app.web.api.schemas.views import OverviewParams, ViewParams
from app.web.pages.leaderboard import overview_context, track_context
from tests.leaderboard_fixture import BASE_TIME, T1_DIMENSIONS, JudgedSpec, add_judged
from tests.web.leaderboard_support import (
    client_for,
    run_in_session,
    seed,
    seed_older_t2_rubric,
    settings_for,
)


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path)


@pytest.fixture
async def world(settings: Settings) -> dict[str, int]:
    return await seed(settings)


def by_model(entries: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {f"{e['kind']}:{e['model']}": e for e in entries}


async def test_overview_json_has_the_hand_computed_values(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard", params={"kind": "judged"})).json()
    assert body["matched"] == 4 and body["total"] == 27  # 23 reported + 4 judged
    order = [e["model"] for e in body["entries"]]
    assert order == ["Beta-Closed", "Alpha-General", "Gamma-Med", "Delta-Unified"]
    rows = by_model(body["entries"])
    alpha = rows["judged:Alpha-General"]
    assert alpha["mean"] == pytest.approx(55.0)
    assert (alpha["mean_ci_low"], alpha["mean_ci_high"]) == (pytest.approx(48), pytest.approx(64))
    assert alpha["tracks"]["T2"]["score"] == 40.0  # the pinned submission, not 44 or 99
    assert alpha["tracks"]["T2"]["pinned"] is True
    assert alpha["tracks"]["T2"]["submission_id"] == world["Alpha-General/T2"]
    assert alpha["tracks"]["T1"]["f1"] == 70.0
    assert alpha["tracks"]["T1"]["judge_model"] == "mmrare-reference-judge-v1"
    assert alpha["tracks"]["T1"]["judge_is_reference"] is True
    assert alpha["tracks"]["T1"]["rubric_version"] == body["pairs"][0]["rubric_version"]
    assert rows["judged:Gamma-Med"]["mean"] == pytest.approx(45.75)
    ranks = {name[7:]: (e["rank"], e["rank_best"], e["rank_worst"]) for name, e in rows.items()}
    assert ranks == {
        "Beta-Closed": (1, 1, 2),
        "Alpha-General": (2, 1, 3),
        "Gamma-Med": (3, 2, 3),
        "Delta-Unified": (None, None, None),
    }
    assert rows["judged:Delta-Unified"]["mean"] is None
    # Bold / underline over the rows shown: T1 70 (Beta) then 60 (Alpha); T4 80 then 75.
    assert set(rows["judged:Beta-Closed"]["best"]) == {"T1", "T1_F1", "T2", "T3", "T4", "mean"}
    assert set(rows["judged:Alpha-General"]["second"]) >= {"T1", "T1_F1", "T3", "mean"}
    assert "T4" in rows["judged:Gamma-Med"]["second"]
    assert rows["judged:Delta-Unified"]["group"] == "medical_unified"
    assert rows["judged:Beta-Closed"]["group"] == "closed"


async def test_overview_mixes_reported_and_judged_rows_apart(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard", params={"all": "true"})).json()
    assert body["matched"] == 27 and len(body["entries"]) == 27
    entries = body["entries"]
    # GPT-5's mean (75.9 + 49.2 + 70.8 + 77.9) / 4 = 68.45 beats Beta's 65.0.
    assert [e["model"] for e in entries[:2]] == ["GPT-5", "Beta-Closed"]
    assert entries[0]["kind"] == "reported" and entries[0]["source"] == "Table 2"
    assert entries[0]["mean"] == pytest.approx(68.45)
    assert entries[0]["rank_best"] is None  # reported: no interval, no range
    assert entries[0]["tracks"]["T1"]["ci_low"] is None
    assert entries[0]["tracks"]["T1"]["judge_model"] is None
    assert entries[-1]["model"] == "Delta-Unified"  # incomplete rows sort below complete ones
    gemini = next(e for e in entries if e["model"] == "Gemini-3-Flash-Preview")
    assert "T1" in gemini["best"] and "T1_F1" in gemini["best"]  # 76.6 and 84.7
    assert "T1" in entries[0]["second"]  # GPT-5's 75.9
    # Beta's mean interval 63–67 among 26 complete rows. Reported rows have intervals of unknown
    # width, so none lies wholly above or below it: best = 1 (no judged row wholly above) and
    # worst = 26 − 1 (only Gamma's judged interval lies wholly below; Alpha's 48–64 touches).
    beta = next(e for e in entries if e["model"] == "Beta-Closed")
    complete = sum(1 for e in entries if e["mean"] is not None)
    assert complete == 26
    assert (beta["rank"], beta["rank_best"], beta["rank_worst"]) == (2, 1, 25)
    assert "unknown width" in body["computed_here"]["rank_range"]
    assert body["computed_here"]["mean"].startswith("Mean across tracks — computed here")


async def test_overview_page_shows_the_table_as_the_paper_does(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        response = await client.get("/", params={"kind": "judged"})
    html = response.text
    assert response.status_code == 200
    assert "<strong>4</strong> of 27 models" in html
    assert 'class="v best">70.0</span>' in html  # Beta's T1
    assert 'class="v second">60.0</span>' in html  # Alpha's T1
    assert '+8.0</span>/<span class="minus">−8.0' in html  # Alpha T1 60 (52–68)
    assert '<span class="range" title="Ranks compatible with the 95% intervals">1–3</span>' in html
    assert "reference stand-in" in html
    assert "Rank range — computed here, not in the paper: the ranks compatible" in html
    assert "Mean across tracks — computed here, not in the paper" in html
    assert 'title="Mean across tracks — computed here' in html  # header tooltips define columns
    for badge in ("closed", "open general", "medical", "medical unified"):
        assert f">{badge}</span>" in html
    assert "Last update:" in html


async def test_reported_rows_are_labelled_with_their_table(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/", params={"kind": "reported", "q": "hulu"})).text
    assert "<strong>3</strong> of 27 models" in html
    assert "reported in paper · Table 3</span>" in html
    # "No interval" is said once under the table, not on each of its rows.
    assert "no interval</span>" not in html and html.count('id="no-interval-note"') == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"domain": "medical"}, 2 + 9),  # Gamma, Delta + 7 medical-domain + 2 unified reported
        ({"domain": "general"}, 2 + 14),
        ({"access": "closed"}, 1 + 7),
        ({"access": "open", "kind": "judged"}, 3),
        ({"kind": "reported"}, 23),
        ({"q": "QWEN"}, 6),
        ({"q": "med", "kind": "judged"}, 1),  # Gamma-Med
        ({"q": "no such model"}, 0),
    ],
)
async def test_filters_and_search(
    settings: Settings, world: dict[str, int], params: dict[str, str], expected: int
) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard", params={**params, "all": "true"})).json()
    assert body["matched"] == expected == len(body["entries"])
    assert body["total"] == 27


@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_empty_scores_sort_last_either_way(
    settings: Settings, world: dict[str, int], direction: str
) -> None:
    async with client_for(settings) as client:
        body = (
            await client.get(
                "/api/v1/leaderboard", params={"kind": "judged", "sort": "T3", "dir": direction}
            )
        ).json()
    order = [e["model"] for e in body["entries"]]
    expected = ["Gamma-Med", "Alpha-General", "Beta-Closed"]  # T3 30, 50, 65
    assert order == (expected if direction == "asc" else expected[::-1]) + ["Delta-Unified"]


async def test_sort_by_name_and_rank_descending(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        by_name = (
            await client.get("/api/v1/leaderboard", params={"kind": "judged", "sort": "model"})
        ).json()
        worst_first = (
            await client.get(
                "/api/v1/leaderboard", params={"kind": "judged", "sort": "rank", "dir": "desc"}
            )
        ).json()
        bad = await client.get("/api/v1/leaderboard", params={"sort": "nonsense"})
    assert [e["model"] for e in by_name["entries"]] == [
        "Alpha-General",
        "Beta-Closed",
        "Delta-Unified",
        "Gamma-Med",
    ]
    assert [e["model"] for e in worst_first["entries"]] == [
        "Gamma-Med",
        "Alpha-General",
        "Beta-Closed",
        "Delta-Unified",
    ]
    assert bad.status_code == 422
    assert "sort must be one of" in bad.json()["error"]["message"]


async def test_ties_go_to_the_earlier_submission(settings: Settings, tmp_path: Path) -> None:
    await seed(settings, reported=False, world=False)

    async def two_equal(session: AsyncSession) -> None:
        for name, hours in (("Late-Model", 5), ("Early-Model", 1)):
            for t, track in enumerate(Track):
                when = BASE_TIME.replace(hour=hours, minute=t)
                await add_judged(
                    session,
                    JudgedSpec(name, track, 50.0, ci=(45.0, 55.0), submitted_at=when),
                )

    await run_in_session(settings, two_equal)
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard")).json()
        descending = (await client.get("/api/v1/leaderboard", params={"sort": "T2"})).json()
        ascending = (
            await client.get("/api/v1/leaderboard", params={"sort": "T2", "dir": "asc"})
        ).json()
    assert [(e["model"], e["rank"]) for e in body["entries"]] == [
        ("Early-Model", 1),
        ("Late-Model", 2),
    ]
    # Equal rank ranges: neither interval separates from the other.
    assert [(e["rank_best"], e["rank_worst"]) for e in body["entries"]] == [(1, 2), (1, 2)]
    assert [e["model"] for e in descending["entries"]] == ["Early-Model", "Late-Model"]
    assert [e["model"] for e in ascending["entries"]] == ["Early-Model", "Late-Model"]


async def test_pages_and_the_full_table_one_click_away(tmp_path: Path, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, tmp_path, leaderboard_page_size=10)
    await seed(settings)
    async with client_for(settings) as client:
        first = (await client.get("/api/v1/leaderboard")).json()
        last = (await client.get("/api/v1/leaderboard", params={"page": 3})).json()
        beyond = (await client.get("/api/v1/leaderboard", params={"page": 9})).json()
        everything = (await client.get("/api/v1/leaderboard", params={"all": "true"})).json()
        csv_text = (await client.get("/api/v1/leaderboard", params={"format": "csv"})).text
        html = (await client.get("/")).text
    assert (first["pages"], len(first["entries"]), first["matched"]) == (3, 10, 27)
    assert len(last["entries"]) == 7 and last["entries"][-1]["model"] == "Delta-Unified"
    assert beyond["page"] == 3  # clamped to the last page
    assert len(everything["entries"]) == 27
    assert csv_text.count("\r\n") == 28  # header + every row, whatever the page
    assert "Page 1 of 3" in html and 'href="/?page=2" rel="next"' in html
    assert 'href="/?all=true">Show all 27 rows</a>' in html


async def test_track_page_has_dimensions_items_and_coverage(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/tracks/T1", params={"kind": "judged"})).json()
        html = (await client.get("/tracks/T1", params={"kind": "judged"})).text
        t3 = (await client.get("/api/v1/tracks/t3", params={"kind": "judged"})).json()
        missing = await client.get("/tracks/T9")
    assert [d["id"] for d in body["pair"]["dimensions"]] == [
        "exact_match",
        "disease_category",
        "diagnostic_specificity",
    ]
    rows = {e["model"]: e for e in body["entries"]}
    assert [e["model"] for e in body["entries"]] == [
        "Beta-Closed",
        "Alpha-General",
        "Gamma-Med",
        "Delta-Unified",
    ]
    gamma = rows["Gamma-Med"]
    assert gamma["dimension_means"] == {
        "exact_match": 45.0,
        "disease_category": 85.0,
        "diagnostic_specificity": 65.0,
    }
    assert (gamma["item_count"], gamma["answered_count"]) == (50, 48)
    assert gamma["coverage"] == pytest.approx(0.96)
    # T1 intervals: Beta 68–72, Alpha 52–68, Gamma 50–66, Delta 35–45.
    ranges = {m: (e["rank"], e["rank_best"], e["rank_worst"]) for m, e in rows.items()}
    assert ranges == {
        "Beta-Closed": (1, 1, 2),
        "Alpha-General": (2, 1, 3),
        "Gamma-Med": (3, 2, 3),
        "Delta-Unified": (4, 4, 4),
    }
    assert "dim:exact_match" in rows["Beta-Closed"]["best"]
    assert "dim:disease_category" in rows["Beta-Closed"]["best"]  # 90
    assert "dim:disease_category" in rows["Gamma-Med"]["second"]  # 85
    assert "Exact diagnosis match" in html and "Diagnostic specificity" in html
    assert 'title="48 of 50 items answered">96%' in html
    assert [e["model"] for e in t3["entries"]] == ["Beta-Closed", "Alpha-General", "Gamma-Med"]
    assert missing.status_code == 404


async def test_page_contexts_carry_the_views(settings: Settings, world: dict[str, int]) -> None:
    async def build(session: AsyncSession) -> Board:
        return await service.build_board(session)

    board = await run_in_session(settings, build)
    params = OverviewParams(kind="judged", sort="T4")
    table = overview_table(board, TableQuery(EntryFilter(kind="judged"), "T4"), 100)
    context = overview_context(board, table, params)
    assert [r.entry.model for r in context["table"].rows] == [
        "Beta-Closed",
        "Gamma-Med",
        "Alpha-General",
        "Delta-Unified",
    ]
    t4 = next(h for h in context["heads"] if h.key == "T4")
    assert t4.current == "desc" and t4.url == "/?kind=judged&sort=T4&dir=asc"
    assert context["csv_url"] == "/api/v1/leaderboard?kind=judged&sort=T4&format=csv"
    assert context["table"].matched == 4 and context["table"].total == 27

    t2_table = track_table(board, Track.T2, TableQuery(EntryFilter()), 100)
    track = track_context(board, Track.T2, t2_table, ViewParams())
    # Organisation and size are on request on a track page (cols=).
    assert [h.key for h in track["heads"]][:3] == ["rank", "model", "score"]
    # No T2 row has dimension means: no all-empty columns.
    assert not any(h.key.startswith("dim:") for h in track["heads"])
    assert not any(key.startswith("dim:") for key in t2_table.columns)
    judged_t1 = track_table(board, Track.T1, TableQuery(EntryFilter(kind="judged")), 100)
    assert [c for c in judged_t1.columns if c.startswith("dim:")] == [
        f"dim:{d}" for d in T1_DIMENSIONS
    ]
    assert track["table"].matched == 27  # every entry has a T2 score


async def test_an_older_rubric_version_shows_the_board_under_it(
    settings: Settings, world: dict[str, int]
) -> None:
    old_version = await seed_older_t2_rubric(settings)
    async with client_for(settings) as client:
        current = (await client.get("/api/v1/leaderboard", params={"kind": "judged"})).json()
        params = {"kind": "judged", "rubric": old_version[:10]}
        then = (await client.get("/api/v1/leaderboard", params=params)).json()
        html = (await client.get("/", params=params)).text
        unknown = await client.get("/api/v1/leaderboard", params={"rubric": "ffffffffff"})

        async def drop(session: AsyncSession) -> None:
            await session.execute(delete(RunAggregate).where(RunAggregate.score == 33.0))

        await run_in_session(settings, drop)
        gone = await client.get("/api/v1/leaderboard", params=params)
    assert by_model(current["entries"])["judged:Gamma-Med"]["tracks"]["T2"]["score"] == 20.0
    rows = by_model(then["entries"])
    assert rows["judged:Gamma-Med"]["tracks"]["T2"]["score"] == 33.0
    assert "T2" not in rows["judged:Beta-Closed"]["tracks"]  # no score under the old rubric
    t2 = next(p for p in then["pairs"] if p["track"] == "T2")
    assert t2["rubric_version"] == old_version and t2["active"] is False
    assert "Showing an older board" in html and "Back to the current board" in html
    assert unknown.status_code == 404
    assert gone.status_code == 404


async def test_scores_appear_when_a_run_is_scored(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        before = await client.get("/api/v1/leaderboard", params={"kind": "judged"})
        again = await client.get(
            "/api/v1/leaderboard",
            params={"kind": "judged"},
            headers={"If-None-Match": before.headers["etag"]},
        )

        async def new_score(session: AsyncSession) -> None:
            await add_judged(
                session,
                JudgedSpec("Delta-Unified", Track.T3, 12.5, ci=(10.0, 15.0)),
            )

        await run_in_session(settings, new_score)
        after = await client.get(
            "/api/v1/leaderboard",
            params={"kind": "judged"},
            headers={"If-None-Match": before.headers["etag"]},
        )
    assert before.headers["cache-control"].startswith("public")
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == before.headers["etag"]
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    delta = by_model(after.json()["entries"])["judged:Delta-Unified"]
    assert delta["tracks"]["T3"]["score"] == 12.5


async def test_every_page_renders_on_an_empty_board(settings: Settings) -> None:
    await seed(settings, reported=False, world=False)
    async with client_for(settings) as client:
        pages = {
            path: await client.get(path)
            for path in (
                "/",
                "/tracks/T4",
                "/analysis/domain-gap",
                "/analysis/consistency",
                "/api/v1/leaderboard",
                "/api/v1/analysis/domain-gap?format=csv",
            )
        }
    assert all(r.status_code == 200 for r in pages.values()), {
        p: r.status_code for p, r in pages.items()
    }
    assert "No entries match" in pages["/"].text
    assert "<strong>0</strong> of 0 models" in pages["/"].text
    gap = pages["/analysis/domain-gap"].text
    assert "no medical model has a score yet" in gap and "not available yet" in gap
    assert "No scores yet" in gap  # the bar chart's text alternative
    assert pages["/api/v1/leaderboard"].json()["entries"] == []
