"""The board over HTTP: columns chosen in the URL, organisation and size filters, the paper's
Table 2/3 presets, score bars, case-insensitive model URLs and rubric prefixes.

The world is `seed_small_world` (four judged 7B models of "Alpha Lab", "Beta Lab", … plus the
paper's 23 reported entries, which have no organisation or size).
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.tracks import Track
from tests.leaderboard_fixture import JudgedSpec, ModelSpec, add_judged, ensure_model
from tests.web.leaderboard_support import (
    client_for,
    parse_csv,
    run_in_session,
    seed,
    seed_older_t2_rubric,
    settings_for,
)

PAPER_TABLE2 = {
    "GPT-5": (75.9, 76.1, 49.2, 70.8, 77.9),
    "Gemini-3-Flash-Preview": (76.6, 84.7, 29.1, 62.9, 81.8),
}


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, tmp_path)


@pytest.fixture
async def world(settings: Settings) -> dict[str, int]:
    ids = await seed(settings)

    async def large(session: AsyncSession) -> None:
        await ensure_model(
            session,
            ModelSpec("Omega-72B", organisation="Omega Research", parameter_count=72_000_000_000),
        )
        await add_judged(session, JudgedSpec("Omega-72B", Track.T1, 66.0, ci=(60.0, 70.0)))

    await run_in_session(settings, large)
    return ids


def header_keys(html: str, table_id: str) -> list[str]:
    """The sort keys of a table's header links, in order."""
    table = html[html.index(f'id="{table_id}"') :]
    head = table[: table.index("</thead>")]
    return [unquote(unescape(k)) for k in re.findall(r'[?&amp;]sort=([^&"]+)', head)]


async def test_cols_choose_the_page_columns_and_the_csv_fields_but_not_the_json(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        page = await client.get("/", params={"cols": "T2,mean,size"})
        repeated = await client.get("/?cols=model&cols=T2&cols=mean&cols=size")
        body = (await client.get("/api/v1/leaderboard", params={"cols": "T2,mean,size"})).json()
        csv = parse_csv((await client.get("/api/v1/leaderboard?cols=T2,mean&format=csv")).text)
        track = await client.get("/tracks/T1", params={"cols": "score,dim:exact_match"})
        track_csv = (
            await client.get(
                "/api/v1/tracks/T1", params={"cols": "dim:exact_match", "format": "csv"}
            )
        ).text
    assert page.status_code == 200
    assert header_keys(page.text, "overview") == ["model", "size", "T2", "mean"]
    assert header_keys(repeated.text, "overview") == ["model", "size", "T2", "mean"]
    # Sort links and the CSV link keep the choice: it is part of the permalink.
    assert 'href="/?cols=T2,mean,size&amp;sort=T2"' not in page.text  # sort comes first
    assert 'href="/?sort=T2&amp;cols=T2,mean,size"' in page.text
    assert "/api/v1/leaderboard?cols=T2,mean,size&amp;format=csv" in page.text
    assert body["columns"] == ["model", "size", "T2", "mean"]
    assert "rank" in body["column_options"] and "organisation" in body["column_options"]
    entry = body["entries"][0]
    assert {"rank", "organisation", "parameter_count", "tracks", "mean"} <= set(entry)
    assert list(csv[0]) == [
        "model",
        "kind",
        "source",
        "group",
        "open_weights",
        "medical",
        "category",
        "T2_score",
        "T2_ci_low",
        "T2_ci_high",
        "mean",
        "mean_ci_low",
        "mean_ci_high",
        "judges",
        "T2_attempts",
        "T2_rubric_version",
    ]
    assert header_keys(track.text, "track-T1") == ["model", "score", "dim:exact_match"]
    assert track_csv.splitlines()[0].endswith(
        "Exact diagnosis match (exact_match),submission_id,attempts"
    )


async def test_an_unknown_column_is_a_422_naming_the_valid_keys(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        api = await client.get("/api/v1/leaderboard", params={"cols": "T1,accuracy"})
        page = await client.get("/tracks/T2", params={"cols": "T1"})
    assert api.status_code == 422
    error = api.json()["error"]
    assert error["type"] == "InvalidInput"
    assert "unknown column in cols: 'accuracy'" in error["message"]
    assert "rank, model, organisation, size, T1, T1_F1, T2, T3, T4, mean" in error["message"]
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "unknown column in cols: &#39;T1&#39;" in page.text
    assert "rank, model, organisation, size, score" in page.text


async def test_the_column_picker_is_a_plain_form_that_keeps_the_view(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/", params={"rank_by": "T2", "kind": "judged"})).text
    picker = html[html.index('id="column-picker"') :]
    picker = picker[: picker.index("</details>")]
    assert '<form class="filters" method="get"' in picker and "<script" not in html
    checked = re.findall(r'name="cols" value="([^"]+)" checked', picker)
    assert checked == [
        "rank",
        "model",
        "organisation",
        "size",
        "T1",
        "T1_F1",
        "T2",
        "T3",
        "T4",
        "mean",
    ]
    assert '<input type="hidden" name="rank_by" value="T2">' in picker
    assert '<input type="hidden" name="kind" value="judged">' in picker
    assert 'type="submit">Show columns' in picker


async def test_organisation_and_size_filter_rows_and_show_as_columns(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        by_org = (
            await client.get("/api/v1/leaderboard", params={"organisation": "omega RESEARCH"})
        ).json()
        big = (await client.get("/api/v1/leaderboard", params={"size_min": "10"})).json()
        small = (await client.get("/api/v1/tracks/T1", params={"size_max": "7"})).json()
        html = (await client.get("/", params={"kind": "judged", "size_min": "8"})).text
        wrong = await client.get("/api/v1/leaderboard", params={"size_min": "9", "size_max": "2"})
        negative = await client.get("/", params={"size_min": "-1"})
    assert [e["model"] for e in by_org["entries"]] == ["Omega-72B"]
    assert by_org["filters"]["organisation"] == "omega RESEARCH"
    assert [e["model"] for e in big["entries"]] == ["Omega-72B"]
    assert big["entries"][0]["parameter_count"] == 72_000_000_000
    assert {e["model"] for e in small["entries"]} == {
        "Alpha-General",
        "Beta-Closed",
        "Gamma-Med",
        "Delta-Unified",
    }
    assert big["filters"]["size_min"] == 10
    row = html[html.index('data-key="judged:Omega-72B"') :]
    row = row[: row.index("</tr>")]
    assert 'data-label="Organisation">Omega Research</td>' in row
    assert ">72B</span>" in row
    assert 'name="size_min" value="8"' in html
    assert '<option value="Omega Research">' in html  # the organisation field's suggestions
    assert wrong.status_code == 422 and "size_min (9) is above size_max (2)" in wrong.text
    assert negative.status_code == 422


async def test_presets_open_the_papers_table_2_and_3(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        overview = (await client.get("/")).text
        links = dict(re.findall(r'<a href="(/\?[^"]+)"[^>]*>(Table [23])</a>', overview))
        by_label = {label: unescape(url) for url, label in links.items()}
        table2 = await client.get(by_label["Table 2"])
        table3 = await client.get(by_label["Table 3"])
        api2 = (await client.get("/api/v1/leaderboard" + by_label["Table 2"][1:])).json()
        api3 = (await client.get("/api/v1/leaderboard" + by_label["Table 3"][1:])).json()
    assert by_label["Table 2"] == "/?access=closed&kind=reported&cols=model,T1,T1_F1,T2,T3,T4"
    assert by_label["Table 3"] == "/?access=open&kind=reported&cols=model,T1,T1_F1,T2,T3,T4"
    assert header_keys(table2.text, "overview") == ["model", "T1", "T1_F1", "T2", "T3", "T4"]
    assert 'aria-current="page"' in table2.text
    assert api2["matched"] == 7 and api3["matched"] == 16
    assert {e["kind"] for e in api2["entries"] + api3["entries"]} == {"reported"}
    rows = {e["model"]: e["tracks"] for e in api2["entries"]}
    for model, (t1, f1, t2, t3, t4) in PAPER_TABLE2.items():
        tracks = rows[model]
        assert (tracks["T1"]["score"], tracks["T1"]["f1"]) == (t1, f1)
        assert [tracks[t]["score"] for t in ("T2", "T3", "T4")] == [t2, t3, t4]
    assert header_keys(table3.text, "overview") == ["model", "T1", "T1_F1", "T2", "T3", "T4"]


async def test_every_score_column_draws_a_bar_and_the_ranked_one_is_marked(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        html = (await client.get("/", params={"rank_by": "T3"})).text
        track = (await client.get("/tracks/T1", params={"kind": "judged"})).text
    row = html[html.index('data-key="judged:Beta-Closed"') :]
    row = row[: row.index("</tr>")]
    widths = re.findall(
        r'<span class="bar( ranked)?" aria-hidden="true"><span style="width: ([\d.]+)%', row
    )
    # T1, T1 F1, T2, T3, T4 and the mean: six bars, the T3 one (ranked by) marked.
    assert [w for _, w in widths] == ["70.0", "75.0", "45.0", "65.0", "80.0", "65.0"]
    assert [ranked for ranked, _ in widths] == ["", "", "", " ranked", "", ""]
    beta = track[track.index('data-key="judged:Beta-Closed"') :]
    beta = beta[: beta.index("</tr>")]
    assert beta.count('class="bar') == 2 + 3  # score, F1 and the three T1 dimensions


async def test_model_urls_redirect_to_the_stored_case(
    settings: Settings, world: dict[str, int]
) -> None:
    async with client_for(settings) as client:
        page = await client.get("/models/alpha-general", params={"kind": "judged"})
        api = await client.get("/api/v1/leaderboard/models/ALPHA-GENERAL")
        exact = await client.get("/models/Alpha-General")
        missing = await client.get("/models/no-such-model")

        async def twin(session: AsyncSession) -> None:
            await ensure_model(session, ModelSpec("alpha-general"))

        await run_in_session(settings, twin)
        ambiguous = await client.get("/api/v1/leaderboard/models/ALPHA-General")
        ambiguous_page = await client.get("/models/ALPHA-General")
        lower = await client.get("/models/alpha-general")
    assert page.status_code == 308
    assert page.headers["location"] == "/models/Alpha-General?kind=judged"
    assert api.status_code == 308
    assert api.headers["location"] == "/api/v1/leaderboard/models/Alpha-General"
    assert exact.status_code == 200 and missing.status_code == 404
    assert ambiguous.status_code == 409
    message = ambiguous.json()["error"]["message"]
    assert "'Alpha-General', 'alpha-general'" in message and "differ only by case" in message
    assert ambiguous_page.status_code == 409 and "differ only by case" in ambiguous_page.text
    assert lower.status_code == 200  # an exact name is never ambiguous


def older_board_links(html: str) -> dict[str, tuple[str, bool]]:
    """The older-boards list: link text -> (href, shown now)."""
    block = html[html.index('id="older-boards"') :]
    block = block[: block.index("</details>")]
    links = re.findall(r'<li><a href="([^"]*)"( aria-current="true")?>(.*?)</a></li>', block)
    return {
        re.sub(r"<[^>]+>", "", unescape(text)): (unescape(href), bool(current))
        for href, current, text in links
    }


def query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


async def test_a_rubric_prefix_and_the_older_boards_agree_with_the_banner(
    settings: Settings, world: dict[str, int]
) -> None:
    old_version = await seed_older_t2_rubric(settings)
    async with client_for(settings) as client:
        body = (await client.get("/api/v1/leaderboard")).json()
        current = next(p for p in body["pairs"] if p["track"] == "T2")["rubric_version"]
        same = (await client.get("/", params={"rubric": current[:6]})).text
        then = (await client.get("/", params={"rubric": old_version[:7]})).text
        short = await client.get("/api/v1/leaderboard", params={"rubric": current[:3]})
    assert "Showing an older board" not in same
    assert 'id="older-boards">' in same  # closed while the current board shows
    assert older_board_links(same)["current (active)"] == ("/", True)
    assert "Showing an older board" in then
    assert 'id="older-boards" open>' in then
    links = older_board_links(then)
    assert links["current (active)"] == ("/", False)
    [(label, (href, shown))] = [item for item in links.items() if item[0] != "current (active)"]
    assert label.startswith(f"T2 · rubric {old_version[:12]} · judge ") and shown
    assert query(href)["rubric"] == [old_version]
    assert short.status_code == 422
    message = short.json()["error"]["message"]
    assert "too short" in message and f"T2 {current[:12]}" in message


async def test_a_version_judged_by_two_judges_opens_under_the_judge_its_link_names(
    settings: Settings, world: dict[str, int]
) -> None:
    old_version = await seed_older_t2_rubric(settings)

    async def second_judge(session: AsyncSession) -> None:
        spec = JudgedSpec(
            "Alpha-General", Track.T2, 41.0, rubric_version=old_version, judge_model="second-judge"
        )
        await add_judged(session, spec)

    await run_in_session(settings, second_judge)
    async with client_for(settings) as client:
        links = older_board_links((await client.get("/")).text)
        older = {label: href for label, (href, _) in links.items() if label.startswith("T2")}
        assert len(older) == 2
        for label, href in older.items():
            judge = label.split(" · judge ")[1].split(" · ")[0].removesuffix("reference stand-in")
            assert query(href) == {"rubric": [old_version], "judge": [judge]}
            page = (await client.get(href)).text
            assert older_board_links(page)[label] == (href, True)
            banner = page[page.index("Showing an older board") :]
            assert f"and judge {judge}" in banner[: banner.index("</p>")]


async def test_a_track_page_offers_only_its_own_older_boards(
    settings: Settings, world: dict[str, int]
) -> None:
    old_version = await seed_older_t2_rubric(settings)
    async with client_for(settings) as client:
        t1 = (await client.get("/tracks/T1")).text
        t2 = older_board_links((await client.get("/tracks/T2")).text)
    assert 'id="older-boards"' not in t1  # T1 has no older board of its own
    [(href, _)] = [link for label, link in t2.items() if label.startswith("T2")]
    assert href.startswith("/tracks/T2?") and query(href)["rubric"] == [old_version]


async def test_older_board_links_keep_the_view(settings: Settings, world: dict[str, int]) -> None:
    """Each older board's link carries the columns, filters and sort along, not the page."""
    old_version = await seed_older_t2_rubric(settings)
    view = {"cols": "model,T1", "domain": "medical", "sort": "T1", "page": "1", "q": "a"}
    async with client_for(settings) as client:
        html = (await client.get("/", params=view)).text
    links = older_board_links(html)
    [href] = [href for label, (href, _) in links.items() if label.startswith("T2")]
    assert "cols=model,T1" in href  # the documented, readable form
    kept = {name: values for name, values in query(href).items() if name not in ("rubric", "judge")}
    assert kept == {"domain": ["medical"], "q": ["a"], "sort": ["T1"], "cols": ["model,T1"]}
    assert query(href)["rubric"] == [old_version]
    assert query(links["current (active)"][0]) == kept


async def test_the_documented_board_urls(settings: Settings, world: dict[str, int]) -> None:
    """The URLs docs/leaderboard.md gives as examples, as a visitor types them."""
    async with client_for(settings) as client:
        comma = await client.get("/?cols=model,T1,T2")
        repeated = await client.get("/?cols=T1&cols=T2")
        sized = (await client.get("/api/v1/leaderboard?size_min=7&size_max=72")).json()
        table3 = await client.get("/?access=open&kind=reported&cols=model,T1,T1_F1,T2,T3,T4")
        gpt5 = await client.get("/models/gpt-5")
        gpt5_api = await client.get("/api/v1/leaderboard/models/gpt-5")
    assert header_keys(comma.text, "overview") == ["model", "T1", "T2"]
    assert header_keys(repeated.text, "overview") == ["model", "T1", "T2"]
    assert {e["model"] for e in sized["entries"]} == {
        "Alpha-General",
        "Beta-Closed",
        "Gamma-Med",
        "Delta-Unified",
        "Omega-72B",
    }
    assert table3.status_code == 200 and "<strong>16</strong> of 28 models" in table3.text
    assert (gpt5.status_code, gpt5.headers["location"]) == (308, "/models/GPT-5")
    assert gpt5_api.headers["location"] == "/api/v1/leaderboard/models/GPT-5"
