"""The leaderboard's pure views: filter, rank, mark, sort and page a board built in memory."""

from datetime import UTC, datetime

import pytest

from app.errors import InvalidInput
from app.leaderboard.board import (
    Board,
    BoardPair,
    Cell,
    Dimension,
    Direction,
    Domain,
    Entry,
    EntryKind,
    ModelInfo,
)
from app.leaderboard.table import (
    Column,
    EntryFilter,
    TableQuery,
    overview_table,
    rank_entries,
    track_table,
)
from app.tracks import Track


def info(
    model_id: int, name: str, *, medical: bool = False, open_weights: bool = False
) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        name=name,
        organisation=None,
        open_weights=open_weights,
        medical=medical,
        category="medical" if medical else "general",
        parameter_count=None,
        url=None,
        paper_url=None,
        description=None,
        team_id=None,
    )


def judged(
    model_id: int,
    name: str,
    scores: dict[Track, float],
    *,
    day: int = 1,
    width: float = 2.0,
    **flags: bool,
) -> Entry:
    when = datetime(2026, 1, day, tzinfo=UTC)
    cells = {
        track: Cell(
            score=score,
            ci_low=score - width,
            ci_high=score + width,
            item_count=100,
            answered_count=100,
            submission_id=model_id * 10 + i,
            submitted_at=when,
        )
        for i, (track, score) in enumerate(scores.items())
    }
    return Entry(info=info(model_id, name, **flags), kind=EntryKind.JUDGED, cells=cells)


def reported(model_id: int, name: str, scores: dict[Track, float], **flags: bool) -> Entry:
    cells = {track: Cell(score=score) for track, score in scores.items()}
    return Entry(
        info=info(model_id, name, **flags), kind=EntryKind.REPORTED, cells=cells, source="Table 2"
    )


def all_tracks(value: float) -> dict[Track, float]:
    return dict.fromkeys(Track, value)


def active_pair(track: Track, *dimensions: Dimension) -> BoardPair:
    return BoardPair(
        track=track,
        rubric_version="a" * 64,
        judge_model_id=1,
        judge_model="judge-x",
        judge_is_reference=False,
        active=True,
        dimensions=dimensions,
    )


def board(*entries: Entry) -> Board:
    pair = active_pair(Track.T2, Dimension("accuracy", "Accuracy"))
    return Board(entries=tuple(entries), pairs={Track.T2: pair}, choices=(), last_updated=None)


def names(rows: list) -> list[str]:
    return [row.entry.name for row in rows]


def test_filters_take_strings_as_their_enums_and_reject_unknown_values() -> None:
    filters = EntryFilter(domain="medical", kind="judged")
    assert filters.domain is Domain.MEDICAL and filters.kind is EntryKind.JUDGED
    with pytest.raises(InvalidInput, match="kind must be one of judged, reported, not 'paper'"):
        EntryFilter(kind="paper")
    entries = [judged(1, "Med", all_tracks(50), medical=True), judged(2, "Gen", all_tracks(60))]
    assert [e.name for e in EntryFilter(domain=Domain.MEDICAL).apply(entries)] == ["Med"]
    assert [e.name for e in EntryFilter(q="GE").apply(entries)] == ["Gen"]


def test_overview_ranks_by_the_mean_with_incomplete_rows_last() -> None:
    rows = rank_entries(
        [
            judged(1, "Low", all_tracks(40)),
            judged(2, "Partial", {Track.T1: 99.0}),
            judged(3, "High", all_tracks(80)),
        ]
    )
    assert names(rows) == ["High", "Low", "Partial"]
    assert [r.rank for r in rows] == [1, 2, None]


def test_ties_go_to_the_earlier_submission() -> None:
    rows = rank_entries(
        [judged(1, "Later", all_tracks(50), day=5), judged(2, "Earlier", all_tracks(50), day=2)]
    )
    assert names(rows) == ["Earlier", "Later"]
    assert [r.rank for r in rows] == [1, 2]


def test_best_and_second_compare_values_as_displayed() -> None:
    view = overview_table(
        board(
            judged(1, "A", all_tracks(70.04)),
            judged(2, "B", all_tracks(70.01)),
            judged(3, "C", all_tracks(60)),
        ),
        TableQuery(),
        100,
    )
    marks = {row.entry.name: row.marks.get("T1") for row in view.rows}
    assert marks == {"A": "best", "B": "best", "C": "second"}


def test_sorting_puts_empty_values_last_in_both_directions() -> None:
    b = board(
        judged(1, "A", {Track.T1: 10.0}),
        judged(2, "B", {Track.T2: 90.0}),
        judged(3, "C", {Track.T1: 30.0}),
    )
    for direction in (Direction.ASC, Direction.DESC):
        view = overview_table(b, TableQuery(sort=Column.T1, direction=direction), 100)
        assert names(view.rows)[-1] == "B"
    assert names(overview_table(b, TableQuery(sort="T1", direction="asc"), 100).rows)[:2] == [
        "A",
        "C",
    ]


def test_pages_and_show_all() -> None:
    entries = [judged(i, f"M{i:02d}", all_tracks(float(i))) for i in range(1, 26)]
    view = overview_table(board(*entries), TableQuery(page=3), 10)
    assert (view.page, view.pages, view.matched, len(view.rows)) == (3, 3, 25, 5)
    assert len(view.all_rows) == 25
    everything = overview_table(board(*entries), TableQuery(show_all=True), 10)
    assert len(everything.rows) == 25 and everything.page == 1
    beyond = overview_table(board(*entries), TableQuery(page=99), 10)
    assert beyond.page == 3


def test_unknown_sort_and_direction_are_clear_errors() -> None:
    with pytest.raises(
        InvalidInput, match="sort must be one of rank, model, organisation, size, T1"
    ):
        overview_table(board(), TableQuery(sort="score"), 10)
    with pytest.raises(InvalidInput, match="direction must be asc or desc, not 'up'"):
        overview_table(board(), TableQuery(direction="up"), 10)
    with pytest.raises(
        InvalidInput, match="sort must be one of rank, model, organisation, size, score"
    ):
        track_table(board(), Track.T2, TableQuery(sort="T1"), 10)


def test_track_table_keeps_entries_with_a_score_on_the_track_and_sorts_by_a_dimension() -> None:
    a = judged(1, "A", {Track.T2: 50.0})
    a = Entry(
        info=a.info,
        kind=a.kind,
        cells={Track.T2: Cell(score=50.0, dimension_means={"accuracy": 20.0})},
    )
    b = Entry(
        info=info(2, "B"),
        kind=EntryKind.JUDGED,
        cells={Track.T2: Cell(score=40.0, dimension_means={"accuracy": 90.0})},
    )
    c = judged(3, "C", {Track.T1: 70.0})
    view = track_table(board(a, b, c), Track.T2, TableQuery(sort="dim:accuracy"), 10)
    assert names(view.rows) == ["B", "A"]
    assert view.columns == ("rank", "model", "score", "dim:accuracy", "items", "coverage")


def test_a_reported_row_widens_judged_rank_ranges_by_one_and_has_none_itself() -> None:
    entries = [
        judged(1, "Top", all_tracks(80), width=1.0),
        reported(2, "Paper", all_tracks(70)),
        judged(3, "Bottom", all_tracks(60), width=1.0),
    ]
    rows = {row.entry.name: row for row in rank_entries(entries)}
    assert rows["Paper"].rank == 2 and rows["Paper"].rank_range is None
    # Without the reported row the judged ones separate (1–1 and 2–2); it may lie anywhere.
    assert rows["Top"].rank_range == (1, 2)
    assert rows["Bottom"].rank_range == (2, 3)
    alone = {row.entry.name: row.rank_range for row in rank_entries([entries[0], entries[2]])}
    assert alone == {"Top": (1, 1), "Bottom": (2, 2)}


def test_the_overview_ranks_by_the_track_the_visitor_picks() -> None:
    high_t1 = judged(1, "StrongT1", {**all_tracks(40), Track.T1: 90.0})
    high_mean = judged(2, "StrongMean", all_tracks(60))
    only_t1 = judged(3, "OnlyT1", {Track.T1: 70.0})
    b = board(high_t1, high_mean, only_t1)
    by_mean = overview_table(b, TableQuery(), 10)
    assert by_mean.rank_by == "mean"
    assert names(by_mean.rows) == ["StrongMean", "StrongT1", "OnlyT1"]
    assert [r.rank for r in by_mean.rows] == [1, 2, None]  # no mean without all four
    by_t1 = overview_table(b, TableQuery(rank_by="T1"), 10)
    assert by_t1.rank_by == "T1"
    assert names(by_t1.rows) == ["StrongT1", "OnlyT1", "StrongMean"]
    assert [r.rank for r in by_t1.rows] == [1, 2, 3]
    # Ranges come from the T1 intervals (±2 each, all separated).
    assert [r.rank_range for r in by_t1.rows] == [(1, 1), (2, 2), (3, 3)]
    by_t2 = overview_table(b, TableQuery(rank_by="T2"), 10)
    assert names(by_t2.rows) == ["StrongMean", "StrongT1", "OnlyT1"]
    assert by_t2.rows[-1].rank is None  # no T2 score: unranked, last


def test_an_unknown_ranking_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="rank_by must be one of T1, T2, T3, T4, mean, not 'T5'"):
        overview_table(board(judged(1, "A", all_tracks(50))), TableQuery(rank_by="T5"), 10)


def test_judged_entries_name_their_judge_and_reported_ones_none() -> None:
    mine = judged(1, "Mine", {Track.T2: 50.0, Track.T3: 40.0})
    paper = reported(2, "Paper", {Track.T2: 55.0})
    b = board(mine, paper)
    pair = b.judge_of(mine, Track.T2)
    assert pair is not None and pair.judge_model == "judge-x"
    assert b.judge_of(mine, Track.T3) is None  # no pair for T3 on this board
    assert b.judge_of(paper, Track.T2) is None
    assert b.judges_of(mine) == [("judge-x", False)] and b.judges_of(paper) == []
