"""Columns chosen with cols=, the organisation and size filters, the paper's presets and rubric
prefixes: pure functions over boards built in memory (no database)."""

from dataclasses import replace

import pytest

from app.errors import InvalidInput, NotFound
from app.leaderboard.board import Access, Board, Dimension, Entry, EntryKind
from app.leaderboard.columns import (
    OVERVIEW_COLUMNS,
    choose_columns,
    parse_columns,
    size_label,
)
from app.leaderboard.filters import EntryFilter, organisations
from app.leaderboard.presets import PAPER_TABLE_COLUMNS, PRESETS
from app.leaderboard.table import TableQuery, overview_table, track_table
from app.services.leaderboard import _match_version
from app.tracks import Track
from tests.unit.test_board_table import active_pair, all_tracks, judged, reported


def made(entry: Entry, *, organisation: str | None = None, size: float | None = None) -> Entry:
    count = None if size is None else int(size * 1e9)
    return replace(
        entry, info=replace(entry.info, organisation=organisation, parameter_count=count)
    )


def world() -> Board:
    pair = active_pair(Track.T1, Dimension("exact_match", "Exact diagnosis match"))
    entries = (
        made(judged(1, "Small", all_tracks(40)), organisation="Acme Labs", size=7),
        made(judged(2, "Large", all_tracks(60)), organisation="acme labs ", size=72),
        made(judged(3, "Huge", all_tracks(70)), organisation="Other", size=1800),
        judged(4, "Unknown", all_tracks(50)),
        reported(5, "Paper", all_tracks(30)),
    )
    return Board(entries=entries, pairs={Track.T1: pair}, choices=(), last_updated=None)


def names(view) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.entry.name for row in view.rows]


def test_cols_accepts_comma_lists_and_repeats_and_drops_blanks() -> None:
    assert parse_columns(["T1, mean", "", "T1", "model"]) == ("T1", "mean", "model")


def test_chosen_columns_keep_the_table_order_and_always_the_model() -> None:
    assert choose_columns(OVERVIEW_COLUMNS, ("mean", "T1")) == ("model", "T1", "mean")


def test_an_unknown_column_is_refused_with_every_valid_key_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        choose_columns(OVERVIEW_COLUMNS, ("T1", "T9", "bogus"))
    message = caught.value.message
    assert "unknown columns in cols: 'T9', 'bogus'" in message
    assert "rank, model, organisation, size, T1, T1_F1, T2, T3, T4, mean" in message


def test_overview_shows_the_chosen_columns_and_offers_them_all() -> None:
    view = overview_table(world(), TableQuery(columns=("T2", "size")), 10)
    assert view.columns == ("model", "size", "T2")
    assert view.column_options == OVERVIEW_COLUMNS
    with pytest.raises(InvalidInput, match="this table's columns are rank, model"):
        overview_table(world(), TableQuery(columns=("score",)), 10)


def test_track_columns_include_dimensions_and_refuse_overview_keys() -> None:
    view = track_table(world(), Track.T1, TableQuery(columns=("dim:exact_match", "score")), 10)
    assert view.columns == ("model", "score", "dim:exact_match")
    with pytest.raises(InvalidInput, match=r"'T2'.*score, f1, dim:exact_match, items, coverage"):
        track_table(world(), Track.T1, TableQuery(columns=("T2",)), 10)


def test_organisation_and_size_columns_show_by_default_only_where_a_row_has_them() -> None:
    assert {"organisation", "size"} <= set(overview_table(world(), TableQuery(), 10).columns)
    paper_only = overview_table(world(), TableQuery(EntryFilter(kind="reported")), 10)
    assert "organisation" not in paper_only.columns and "size" not in paper_only.columns


def test_organisation_filter_is_whole_name_any_case() -> None:
    rows = EntryFilter(organisation="ACME LABS").apply(world().entries)
    assert [e.name for e in rows] == ["Small", "Large"]
    assert EntryFilter(organisation="acme").apply(world().entries) == []  # not a substring
    assert organisations(world().entries) == ["Acme Labs", "Other"]


def test_size_filter_bounds_are_inclusive_billions_and_unknown_sizes_drop_out() -> None:
    entries = world().entries
    assert [e.name for e in EntryFilter(size_min=7, size_max=72).apply(entries)] == [
        "Small",
        "Large",
    ]
    assert [e.name for e in EntryFilter(size_min=100).apply(entries)] == ["Huge"]
    assert len(EntryFilter().apply(entries)) == 5
    with pytest.raises(InvalidInput, match=r"size_min \(80\) is above size_max \(8\)"):
        EntryFilter(size_min=80, size_max=8)
    with pytest.raises(InvalidInput, match="at least 0"):
        EntryFilter(size_max=-1)


def test_sizes_read_in_billions_and_sort_numerically_with_unknown_last() -> None:
    assert [size_label(n) for n in (7_000_000_000, 500_000_000, 1_800_000_000_000, None)] == [
        "7B",
        "0.5B",
        "1,800B",
        "",
    ]
    for direction in ("asc", "desc"):
        view = overview_table(world(), TableQuery(sort="size", direction=direction), 10)
        assert names(view)[-2:] in (["Unknown", "Paper"], ["Paper", "Unknown"])
    assert names(overview_table(world(), TableQuery(sort="size"), 10))[:3] == [
        "Huge",
        "Large",
        "Small",
    ]
    by_org = overview_table(world(), TableQuery(sort="organisation"), 10)
    assert names(by_org)[:3] == ["Large", "Small", "Huge"]  # acme (by name), then Other


def test_presets_are_the_papers_tables_as_explicit_parameters() -> None:
    by_key = {preset.key: dict(preset.params) for preset in PRESETS}
    assert by_key["table2"] == {
        "access": Access.CLOSED,
        "kind": EntryKind.REPORTED,
        "cols": "model,T1,T1_F1,T2,T3,T4",
    }
    assert by_key["table3"]["access"] == Access.OPEN
    assert ",".join(PAPER_TABLE_COLUMNS) == by_key["table3"]["cols"]
    assert all("kind" not in dict(p.with_judged()) for p in PRESETS)


VERSIONS = [("abcdef0123" + "0" * 54, Track.T1), ("abcdef9999" + "0" * 54, Track.T2)]


def test_a_rubric_prefix_resolves_to_one_version_or_names_the_candidates() -> None:
    assert _match_version("ABCDEF01", VERSIONS) == VERSIONS[0]
    with pytest.raises(InvalidInput, match=r"matches 2 versions: T1 abcdef012300, T2 abcdef999900"):
        _match_version("abcdef", VERSIONS)
    with pytest.raises(InvalidInput, match=r"too short.*\(it starts 2: T1 abcdef012300"):
        _match_version("abc", VERSIONS)
    with pytest.raises(NotFound, match="the versions are T1 abcdef012300, T2 abcdef999900"):
        _match_version("ffffff", VERSIONS)
