"""A model's page: its judged and reported entries on a board, ranks, published history."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.leaderboard.board import Board, BoardPair, Entry, EntryKind, ModelInfo
from app.leaderboard.table import rank_entries
from app.repositories import leaderboard as repo
from app.repositories import models as models_repo
from app.repositories.leaderboard import Pair
from app.tracks import Track


@dataclass(frozen=True)
class ModelView:
    info: ModelInfo
    judged: Entry | None
    reported: Entry | None
    pairs: Mapping[Track, BoardPair]
    history: list[repo.HistoryRow]
    ranks: Mapping[Track, int | None]  # the judged entry's rank on each track page's table
    board_size: Mapping[Track, int]  # rows on that table: judged and reported, unfiltered


async def model_view(session: AsyncSession, board: Board, name: str) -> ModelView:
    info = await repo.model_by_name(session, name)
    if info is None:
        raise NotFound(f"no model is named {name!r}")
    judged = board.entry(f"{EntryKind.JUDGED}:{name}")
    reported = board.entry(f"{EntryKind.REPORTED}:{name}")
    pairs = [Pair(t, p.rubric_version, p.judge_model_id) for t, p in board.pairs.items()]
    history = await repo.published_history(session, info.id, pairs)
    ranks: dict[Track, int | None] = {}
    sizes: dict[Track, int] = {}
    if judged is not None:
        for track in Track:
            # The same table /tracks/{track} shows without filters: judged and reported rows.
            on_track = [e for e in board.entries if track in e.cells]
            sizes[track] = len(on_track)
            ranked = rank_entries(on_track, track=track)
            ranks[track] = next((r.rank for r in ranked if r.entry.key == judged.key), None)
    return ModelView(info, judged, reported, board.pairs, history, ranks, sizes)


async def canonical_model_name(session: AsyncSession, name: str) -> str | None:
    """The stored spelling of `name` when it differs only by case (the model URL redirects to
    it); None when `name` is exact or matches nothing. Two models that differ only by case make
    the URL ambiguous: a Conflict naming both."""
    found = await models_repo.names_folded(session, name)
    if name in found or not found:
        return None
    if len(found) > 1:
        raise Conflict(
            f"{name!r} matches {len(found)} models that differ only by case: "
            f"{', '.join(repr(n) for n in found)}; use the exact name"
        )
    return found[0]
