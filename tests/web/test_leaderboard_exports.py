"""Exports and safety: CSV matches JSON for every table, the model page, escaping of
submitter-typed text, ETag/304 and the OpenAPI documentation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.rubrics.labels import dimension_label
from app.tracks import Track
from app.web.csv_export import uncell
from tests.leaderboard_fixture import JudgedSpec, ModelSpec, add_judged, ensure_model
from tests.web.leaderboard_support import (
    client_for,
    number,
    parse_csv,
    run_in_session,
    seed,
    settings_for,
)


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path)


@pytest.fixture
async def world(settings: Settings) -> dict[str, int]:
    return await seed(settings)


def same(cell: str, value: Any, digits: int | None = None) -> bool:
    """The CSV cell holds the JSON value (rounded to `digits` decimals, as the page shows it)."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == ("true" if value else "false")
    if isinstance(value, int | float):
        return number(cell) == (value if digits is None else round(value, digits))
    return uncell(cell) == str(value)


@pytest.mark.parametrize("params", [{}, {"kind": "judged", "sort": "T3", "dir": "asc"}])
async def test_overview_csv_matches_json(
    settings: Settings, world: dict[str, int], params: dict[str, str]
) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard", params={**params, "all": "true"})).json()
        response = await client.get("/api/v1/leaderboard", params={**params, "format": "csv"})
        page_csv = await client.get("/", params={**params, "format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert page_csv.text == response.text
    rows = parse_csv(response.text)
    assert len(rows) == len(body["entries"])
    for row, entry in zip(rows, body["entries"], strict=True):
        for key in ("rank", "rank_best", "rank_worst", "model", "kind", "source", "group"):
            assert same(row[key], entry[key]), (key, row[key], entry[key])
        for key in ("open_weights", "medical"):
            assert same(row[key], entry[key]), (key, row[key], entry[key])
        for key in ("mean", "mean_ci_low", "mean_ci_high"):
            assert same(row[key], entry[key], 1), (key, row[key], entry[key])
        for track in Track:
            cell = entry["tracks"].get(track.value) or {}
            for column in ("score", "ci_low", "ci_high"):
                assert same(row[f"{track.value}_{column}"], cell.get(column), 1)
        assert same(row["T1_f1"], (entry["tracks"].get("T1") or {}).get("f1"), 1)


async def test_track_csv_matches_json(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/tracks/T1", params={"all": "true"})).json()
        rows = parse_csv((await client.get("/api/v1/tracks/T1?format=csv")).text)
    dims = [d["id"] for d in body["pair"]["dimensions"]]
    assert len(rows) == len(body["entries"]) == 27
    for row, entry in zip(rows, body["entries"], strict=True):
        for key in ("rank", "rank_best", "model", "kind"):
            assert same(row[key], entry[key]), (key, row[key], entry[key])
        for key in ("score", "ci_low", "f1"):
            assert same(row[key], entry[key], 1), (key, row[key], entry[key])
        assert same(row["coverage"], entry["coverage"], 3)
        for dim in dims:
            # The human name first, the id the JSON uses in brackets.
            header = f"{dimension_label(dim, Track.T1)} ({dim})"
            assert same(row[header], entry["dimension_means"].get(dim), 1)
        # Judge, rubric and judge errors apply to judged rows only: empty, not 0, otherwise.
        judged = entry["kind"] == "judged"
        assert row["judge_errors"] == ("0" if judged else "")
        assert row["rubric_version"] == (body["pair"]["rubric_version"] if judged else "")
        assert row["judge"] == (body["pair"]["judge_model"] if judged else "")


async def test_csv_values_are_rounded_as_on_the_page(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        text = (await client.get("/api/v1/leaderboard?format=csv")).text
        body = (await client.get("/api/v1/leaderboard", params={"all": "true"})).json()
    noisy = [
        c for row in parse_csv(text) for c in row.values() if re.fullmatch(r"-?\d+\.\d{2,}", c)
    ]
    assert noisy == []
    means = [e["mean"] for e in body["entries"] if e["mean"] is not None]
    assert any(m != round(m, 1) for m in means)  # the JSON keeps full precision
    first = parse_csv(text)[0]
    assert first["T1_rubric_version"] == ""  # GPT-5: reported in the paper


async def test_analysis_csvs_match_json(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        gap = (await client.get("/api/v1/analysis/domain-gap")).json()
        gap_rows = parse_csv((await client.get("/api/v1/analysis/domain-gap?format=csv")).text)
        score_rows = parse_csv(
            (await client.get("/analysis/domain-gap?format=csv&table=scores")).text
        )
        cons = (await client.get("/api/v1/analysis/consistency")).json()
        cor_rows = parse_csv((await client.get("/api/v1/analysis/consistency?format=csv")).text)
        first_rows = parse_csv(
            (await client.get("/api/v1/analysis/consistency?format=csv&table=firsts")).text
        )
        bad = await client.get("/api/v1/analysis/consistency?format=csv&table=nope")
    comparisons = [(t, c) for t in gap["tracks"] for c in (t["vs_open"], t["vs_closed"])]
    assert len(gap_rows) == len(comparisons) == 8
    for row, (track, c) in zip(gap_rows, comparisons, strict=True):
        assert row["track"] == track["track"] and row["against"] == c["against"]
        assert same(row["medical_model"], c["medical"]["model"])
        assert same(row["other_score"], c["other"]["score"])
        assert same(row["gap"], c["gap"])
        assert same(row["paired_ci_low"], c["paired"]["ci_low"] if c["paired"] else None)
    flat = [
        (t["track"], d["group"], s["model"], s["score"])
        for t in gap["tracks"]
        for d in (t["general"], t["medical"])
        for s in d["scores"]
    ]
    assert [(r["track"], r["group"], r["model"], number(r["score"])) for r in score_rows] == flat
    assert [(r["a"], r["b"], number(r["rho"]), int(r["n"])) for r in cor_rows] == [
        (c["a"], c["b"], c["rho"], c["n"]) for c in cons["correlations"]
    ]
    assert [(r["model"], int(r["count"]), r["tracks"].split()) for r in first_rows] == [
        (f["model"], f["count"], f["tracks"]) for f in cons["firsts"]
    ]
    assert bad.status_code == 422


async def test_model_page(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard/models/Alpha-General")).json()
        html = (await client.get("/models/Alpha-General")).text
        csv_rows = parse_csv(
            (await client.get("/api/v1/leaderboard/models/Alpha-General?format=csv")).text
        )
        dims = parse_csv(
            (await client.get("/models/Alpha-General?format=csv&table=dimensions")).text
        )
        reported = (await client.get("/api/v1/leaderboard/models/GPT-5")).json()
        reported_html = (await client.get("/models/GPT-5")).text
        missing = await client.get("/models/nobody")
        missing_json = await client.get("/api/v1/leaderboard/models/nobody")
    assert body["model"]["group"] == "open_general" and body["model"]["parameter_count"] == 7e9
    scores = {s["track"]: s for s in body["scores"]}
    assert [s["kind"] for s in body["scores"]] == ["judged"] * 4
    assert scores["T2"]["score"] == 40.0 and scores["T2"]["pinned"] is True
    assert (scores["T1"]["ci_low"], scores["T1"]["ci_high"]) == (52.0, 68.0)
    assert scores["T1"]["dimension_means"]["disease_category"] == 80.0
    # Ranked as on /tracks/T1 without filters: 4 judged and 23 reported rows.
    assert (scores["T1"]["rank"], scores["T1"]["ranked"]) == (8, 27)
    assert scores["T1"]["board"] == "/tracks/T1"
    assert "8 of 27" in html and 'href="/tracks/T1">on the T1 board</a>' in html
    history = body["history"]
    assert len(history) == 5  # four shown + the later T2 one; the private 99 is not listed
    assert [h["score"] for h in history if h["track"] == "T2"] == [44.0, 40.0]
    assert [h["shown"] for h in history if h["track"] == "T2"] == [False, True]
    assert all(h["score"] != 99.0 for h in history)
    assert [(r["track"], number(r["score"])) for r in csv_rows] == [
        (s["track"], s["score"]) for s in body["scores"]
    ]
    assert ("T1", "disease_category", "Disease category", "80.0") in [
        (r["track"], r["dimension"], r["name"], r["mean"]) for r in dims
    ]
    assert "Alpha-General: a fixture model for the leaderboard tests" in html
    assert "Per-dimension breakdown" in html and "Disease category" in html
    assert '+8.0</span>/<span class="minus">−8.0' in html
    assert "(pinned)" in html and "reference stand-in" in html
    assert reported["scores"][0]["kind"] == "reported"
    assert reported["reported_protocol"].startswith("judge Qwen3-VL-235B")
    assert "Reported in the paper (Table 2)" in reported_html
    assert missing.status_code == 404 and "no model is named" in missing.text
    assert missing_json.status_code == 404


NASTY = '<script>alert("name")</script>'
NASTY_DESCRIPTION = "<img src=x onerror=alert(1)> & more"


async def test_submitter_text_renders_as_text(settings: Settings, world: dict[str, int]) -> None:
    async def nasty(session: AsyncSession) -> None:
        await ensure_model(
            session,
            ModelSpec(
                NASTY,
                medical=True,
                category="medical",
                description=NASTY_DESCRIPTION,
                url="javascript:alert(1)",
                organisation="<b>org</b>",
            ),
        )
        for track in Track:
            await add_judged(session, JudgedSpec(NASTY, track, 99.0, ci=(98.0, 100.0)))
        await ensure_model(session, ModelSpec("=HYPERLINK(1)", open_weights=False))
        await add_judged(session, JudgedSpec("=HYPERLINK(1)", Track.T1, 1.0, ci=(0.0, 2.0)))

    await run_in_session(settings, nasty)
    quoted = "%3Cscript%3Ealert%28%22name%22%29%3C%2Fscript%3E"
    async with client_for(settings) as client:
        pages = {
            path: (await client.get(path)).text
            for path in (
                "/",
                "/tracks/T1",
                "/analysis/domain-gap?source=mixed",
                "/analysis/consistency?source=mixed",
                f"/models/{quoted}",
            )
        }
        csv_text = (await client.get("/api/v1/leaderboard?format=csv&kind=judged")).text
        api_model = (await client.get(f"/api/v1/leaderboard/models/{quoted}")).json()
    for path, html in pages.items():
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html, path
    model_page = pages[f"/models/{quoted}"]
    assert "<img src=x" not in model_page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in model_page
    assert 'href="javascript:' not in model_page and "javascript:alert(1)" in model_page
    assert "<b>org</b>" not in model_page
    assert f'href="/models/{quoted}"' in pages["/"]
    gap_page = pages["/analysis/domain-gap?source=mixed"]
    assert "T1, best medical: &lt;script&gt;" in gap_page  # SVG tooltip
    assert api_model["model"]["name"] == NASTY
    rows = parse_csv(csv_text)
    assert "'=HYPERLINK(1)" in [r["model"] for r in rows]  # no formula in a spreadsheet
    assert uncell("'=HYPERLINK(1)") == "=HYPERLINK(1)"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/tracks/T2",
        "/analysis/domain-gap",
        "/analysis/consistency",
        "/models/Beta-Closed",
        "/api/v1/leaderboard?format=csv",
        "/api/v1/analysis/domain-gap",
    ],
)
async def test_etag_and_304(settings: Settings, world: dict[str, int], path: str) -> None:
    async with client_for(settings) as client:
        first = await client.get(path)
        etag = first.headers["etag"]
        second = await client.get(path, headers={"If-None-Match": etag})
        other = await client.get(path, headers={"If-None-Match": '"something-else"'})
        weak = await client.get(path, headers={"If-None-Match": f"W/{etag}"})
    assert first.status_code == 200 and etag.startswith('"')
    assert "max-age" in first.headers["cache-control"]
    assert second.status_code == 304 and second.content == b""
    assert second.headers["etag"] == etag and "cache-control" in second.headers
    assert other.status_code == 200 and other.content == first.content
    assert weak.status_code == 304


async def test_openapi_documents_the_views(settings: Settings, world: dict[str, int]) -> None:
    async with client_for(settings) as client:
        schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path, model in (
        ("/api/v1/leaderboard", "Leaderboard"),
        ("/api/v1/tracks/{track}", "TrackBoard"),
        ("/api/v1/leaderboard/models/{name}", "ModelPage"),
        ("/api/v1/analysis/domain-gap", "DomainGap"),
        ("/api/v1/analysis/consistency", "Consistency"),
    ):
        ok = paths[path]["get"]["responses"]["200"]["content"]
        assert ok["application/json"]["schema"]["$ref"].endswith(f"/{model}"), path
        assert "text/csv" in ok
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"kind", "rubric", "format"} <= names
    assert "/" not in paths  # pages stay out of the API schema
