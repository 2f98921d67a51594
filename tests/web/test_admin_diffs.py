"""The diff of a rejudge from plain values: ranks, movers and changed judgements."""

from datetime import UTC, datetime, timedelta

import pytest

from app.repositories.rejudge import ItemSnapshot
from app.services.diffs import DiffInput, RejudgeDiff, Side, build_diff, judgement_changed

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def snap(ratings: dict[str, int] | None, *, error: bool = False, missing: bool = False):
    return ItemSnapshot(ratings, None if error else 0.5, error, missing)


def side(run_id: int, score: float, items: dict[str, ItemSnapshot] | None = None) -> Side:
    return Side(run_id, score, {"a": score}, items or {})


def row(sid: int, model: str, old: float | None, new: float | None, **kw: object) -> DiffInput:
    return DiffInput(
        submission_id=sid,
        model=model,
        published=bool(kw.get("published", True)),
        pinned=bool(kw.get("pinned", False)),
        submitted_at=T0 + timedelta(hours=sid),
        old=side(100 + sid, old, kw.get("old_items")) if old is not None else None,  # type: ignore[arg-type]
        new=side(200 + sid, new, kw.get("new_items")) if new is not None else None,  # type: ignore[arg-type]
    )


def test_judgement_changed() -> None:
    yes, no = snap({"a": 1}), snap({"a": 0})
    assert judgement_changed(yes, no) and not judgement_changed(yes, snap({"a": 1}))
    assert judgement_changed(yes, snap(None, error=True))
    assert not judgement_changed(snap(None, missing=True), snap(None, missing=True))
    assert not judgement_changed(None, yes)


def test_ranks_movers_and_item_counts() -> None:
    rows = [
        row(
            1,
            "m1",
            50.0,
            40.0,
            old_items={"i1": snap({"a": 1}), "i2": snap({"a": 0})},
            new_items={"i1": snap({"a": 0}), "i2": snap({"a": 0}), "i3": snap({"a": 1})},
        ),
        row(2, "m2", 45.0, 60.0),
        row(3, "m3", 30.0, 30.0),
        row(4, "m3", 20.0, 70.0, pinned=True),  # m3's pinned entry is the one ranked
        row(5, "m5", 90.0, 10.0, published=False),  # private: no rank
        row(6, "m6", None, 35.0),  # no old score
    ]
    diff = build_diff(
        rows,
        rejudge_id=7,
        track="T2",
        from_rubric_version="old",
        to_rubric_version="new",
        from_judge_model="j",
        to_judge_model="j",
        dimensions=["a"],
    )
    by_id = {e.submission_id: e for e in diff.entries}
    assert (by_id[1].old_rank, by_id[1].new_rank, by_id[1].rank_change) == (1, 3, -2)
    assert (by_id[2].old_rank, by_id[2].new_rank, by_id[2].rank_change) == (2, 2, 0)
    assert (by_id[4].old_rank, by_id[4].new_rank) == (3, 1)
    assert by_id[3].old_rank is None and by_id[5].new_rank is None
    assert by_id[6].old_rank is None and by_id[6].new_rank == 4 and by_id[6].delta is None
    assert (by_id[1].items_compared, by_id[1].items_changed) == (2, 1)
    assert diff.items_changed == 1 and diff.items_compared == 2
    assert diff.largest_movers == [5, 4, 2, 1, 3]
    assert diff.mean_delta == pytest.approx((-10 + 15 + 0 + 50 - 80) / 5)
    assert [e.submission_id for e in diff.entries][:4] == [4, 2, 1, 6]
    assert RejudgeDiff.from_json(diff.to_json()) == diff
