"""Provenance never mixes silently: the paper's 23 reported entries and one medical entry judged
here by the stand-in (answers copied from the gold, so it scores near 100).

The default view reproduces the paper (Sec. 4.2: T1 gap 6.1, T3 gap 29.3, capacity dilution 23.2);
the judged entry appears only in its judge's view, or marked with its judge in a mixed one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.judge import STANDIN_MODEL
from app.tracks import Track
from tests.leaderboard_fixture import JudgedSpec, ModelSpec, add_judged, ensure_model
from tests.web.leaderboard_support import client_for, run_in_session, seed, settings_for

COPIER = "Copied-Gold-Med"
MARK = f"judged here by {STANDIN_MODEL}"
JUDGE_VIEW = {"source": f"judge:{STANDIN_MODEL}"}


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path)


@pytest.fixture
async def world(settings: Settings) -> None:
    await seed(settings, world=False)

    async def copier(session: AsyncSession) -> None:
        await ensure_model(session, ModelSpec(COPIER, open_weights=True, medical=True))
        for track in Track:
            await add_judged(session, JudgedSpec(COPIER, track, 99.0, ci=(98.0, 100.0)))

    await run_in_session(settings, copier)


def by_track(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {t["track"]: t for t in body["tracks"]}  # type: ignore[attr-defined, index]


async def test_default_view_reproduces_the_paper(settings: Settings, world: None) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/analysis/domain-gap")).json()
        html = (await client.get("/analysis/domain-gap")).text
    tracks = by_track(body)
    assert body["source"]["param"] == "paper" and body["source"]["kind"] == "paper"
    assert body["entries"] == 23
    assert tracks["T1"]["vs_open"]["gap"] == pytest.approx(6.1)
    assert tracks["T3"]["vs_open"]["gap"] == pytest.approx(29.3)
    assert tracks["T3"]["vs_closed"]["gap"] == pytest.approx(43.5)
    assert body["capacity_dilution"] == pytest.approx(23.2)
    assert COPIER not in str(body)
    assert COPIER not in html
    assert "29.3 − 6.1 = <strong>23.2</strong> points" in html


async def test_judge_view_holds_only_that_judges_entries(settings: Settings, world: None) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/analysis/domain-gap", params=JUDGE_VIEW)).json()
        cons = (await client.get("/api/v1/analysis/consistency", params=JUDGE_VIEW)).json()
    assert body["source"] == {
        "param": f"judge:{STANDIN_MODEL}",
        "kind": "judge",
        "judge_model": STANDIN_MODEL,
        "description": f"entries judged here by {STANDIN_MODEL} only (rubric versions as listed)",
        "options": ["paper", f"judge:{STANDIN_MODEL}", "mixed"],
    }
    assert body["entries"] == 1 and cons["entries"] == 1
    t3 = by_track(body)["T3"]
    assert t3["peak_medical"] == {
        "model": COPIER,
        "kind": "judged",
        "score": 99.0,
        "judge": STANDIN_MODEL,
    }
    assert t3["vs_open"]["other"] is None  # no general-purpose model judged by the stand-in
    assert "Medgemma" not in str(body) and "GPT-5" not in str(body)
    assert [f["model"] for f in cons["firsts"]] == [COPIER]


async def test_mixed_view_marks_every_judged_value(settings: Settings, world: None) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/analysis/domain-gap", params={"source": "mixed"})).json()
        html = (await client.get("/analysis/domain-gap", params={"source": "mixed"})).text
        cons = (await client.get("/analysis/consistency", params={"source": "mixed"})).text
    assert body["entries"] == 24
    t3 = by_track(body)["T3"]
    assert t3["peak_medical"]["judge"] == STANDIN_MODEL
    assert t3["vs_open"]["other"]["judge"] is None  # the paper's value: reported
    assert t3["finding"] == (
        f"On T3, the best medical model ({COPIER}, 99.0, {MARK}) leads the best open "
        "general-purpose model (Qwen3-VL-235B-Instruct, 56.6) by 42.4 points and the best "
        "closed model (GPT-5, 70.8) by 28.2 points."
    )
    assert t3["finding"] in html
    medical_points = {s["model"]: s["judge"] for s in t3["medical"]["scores"]}
    assert medical_points[COPIER] == STANDIN_MODEL and medical_points["Medgemma-27b-it"] is None
    # Tables, tooltips and a distinct shape in both Fig. 3 charts.
    badge = f'<span class="badge judged" title="{MARK}: not the paper\'s judge">◆ {MARK}</span>'
    assert html.count(badge) == 8  # the best medical model in both rows of four tracks
    assert f"T3, best medical: {COPIER} ({MARK}), 99.0" in html  # bar tooltip
    assert '<polygon class="mark"' in html  # diamond on the bar
    assert f"<title>{COPIER}: 99.0 ({MARK})</title>" in html  # point tooltip
    assert '<polygon class="point marked"' in html
    assert "◆ judged here (not the paper&#39;s judge)" in html  # legend
    assert f"◆ {MARK}" in cons


async def test_paper_view_marks_nothing(settings: Settings, world: None) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/analysis/domain-gap")).text
    assert "judged here by" not in html and '<polygon class="point marked"' not in html
    assert 'data-source="paper"' in html
    assert f'href="/analysis/domain-gap?source=judge%3A{STANDIN_MODEL}"' in html  # the selector
    assert 'href="/analysis/domain-gap?source=mixed"' in html


async def test_source_survives_filters_and_exports(settings: Settings, world: None) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/analysis/domain-gap", params={"source": "mixed"})).text
        rows = (
            await client.get(
                "/api/v1/analysis/domain-gap",
                params={"source": "mixed", "format": "csv", "table": "scores"},
            )
        ).text
    assert '<input type="hidden" name="source" value="mixed">' in html  # the kind filter's form
    assert "/api/v1/analysis/domain-gap?source=mixed&amp;format=csv" in html
    assert f"T3,medical,{COPIER},judged,{STANDIN_MODEL},99.0" in rows


@pytest.mark.parametrize(
    "source", ["everything", "judge:Nobody", "judge:", "PAPER", f"judge {STANDIN_MODEL}"]
)
async def test_unknown_source_is_a_clear_4xx(settings: Settings, world: None, source: str) -> None:
    async with client_for(settings) as client:
        api = await client.get("/api/v1/analysis/domain-gap", params={"source": source})
        cons = await client.get("/api/v1/analysis/consistency", params={"source": source})
        page = await client.get("/analysis/domain-gap", params={"source": source})
    assert api.status_code == cons.status_code == page.status_code == 422
    detail = api.json()["error"]["message"]
    assert "source" in detail and f"judge:{STANDIN_MODEL}" in detail and "mixed" in detail
    assert page.headers["content-type"].startswith("text/html")
    assert "source" in page.text and "mixed" in page.text


async def test_computed_here_numbers_carry_definitions(settings: Settings, world: None) -> None:
    async with client_for(settings) as client:
        gap = (await client.get("/api/v1/analysis/domain-gap")).json()
        cons = (await client.get("/api/v1/analysis/consistency")).json()
        gap_html = (await client.get("/analysis/domain-gap")).text
        cons_html = (await client.get("/analysis/consistency")).text
    assert [d["key"] for d in gap["computed_here"]] == ["capacity_dilution", "paired_interval"]
    assert [d["key"] for d in cons["computed_here"]] == ["spearman_rho"]
    for definition in gap["computed_here"] + cons["computed_here"]:
        assert definition["definition"].startswith("Computed here, not")
    assert 'class="computed-here" data-key="capacity_dilution"' in gap_html
    assert 'class="computed-here" data-key="paired_interval"' in gap_html
    assert 'class="computed-here" data-key="spearman_rho"' in cons_html
