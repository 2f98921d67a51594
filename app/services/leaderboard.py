"""Building a leaderboard board from the database: judged entries beside the paper's results.

A *board* is every entry under one choice of (rubric version, judge model) per track — the
track's active pair unless the visitor asks for an older rubric version with `?rubric=`. It is
built from stored aggregates in a handful of queries (all in `app.repositories.leaderboard`)
and holds plain values only (`app.leaderboard.board`), so the web layer can cache it until the
data changes (`change_stamp`). Tables are pure views of a board (`app.leaderboard.table`).

A judged entry shows, per track, its published scored submission: a pinned one if the team
pinned one, else the latest. Reported entries (the paper's Tables 2–3) and judged entries are
separate rows, even for the same model (docs/leaderboard.md).
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.leaderboard.board import (
    REPORTED_TIME,
    Board,
    BoardPair,
    Cell,
    Dimension,
    Entry,
    EntryKind,
    RubricChoice,
    Selection,
)
from app.leaderboard.table import rank_entries
from app.repositories import judging as judging_repo
from app.repositories import leaderboard as repo
from app.repositories.leaderboard import Pair
from app.rubrics.loader import parse_rubric
from app.tracks import Track

MIN_RUBRIC_PREFIX = 6
MAX_NAMED_VERSIONS = 10  # an error names at most this many candidate versions


async def board_stamp(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever a board built now could differ from one built before (see the repo)."""
    return await repo.change_stamp(session)


def _match_version(prefix: str, versions: Sequence[tuple[str, Track]]) -> tuple[str, Track]:
    """The one rubric version `prefix` starts (at least 6 digits); otherwise a clear error that
    names the versions it could mean."""
    wanted = prefix.strip().lower()
    found = [(v, t) for v, t in versions if v.startswith(wanted)]

    def named(matches: Sequence[tuple[str, Track]]) -> str:
        return ", ".join(f"{t} {v[:12]}" for v, t in matches[:MAX_NAMED_VERSIONS])

    if len(wanted) < MIN_RUBRIC_PREFIX:
        hint = f" (it starts {len(found)}: {named(found)})" if found else ""
        raise InvalidInput(
            f"rubric {prefix!r} is too short: give the version id or at least its first "
            f"{MIN_RUBRIC_PREFIX} digits{hint}"
        )
    if not found:
        raise NotFound(
            f"no rubric version starts with {prefix!r}; the versions are {named(versions)}"
        )
    if len(found) > 1:
        raise InvalidInput(
            f"rubric {prefix!r} matches {len(found)} versions: {named(found)}; give more digits"
        )
    return found[0]


async def resolve_pairs(session: AsyncSession, selection: Selection) -> dict[Track, BoardPair]:
    """The pair per track a board shows: active ones, with the visitor's rubric versions swapped
    in. An older version is readable for as long as scores under it exist."""
    active = await repo.active_pairs(session)
    judges = await repo.judges(session)
    by_name = {judge.name: judge for judge in judges.values()}
    versions = await repo.rubric_versions(session)
    pairs: dict[Track, Pair] = dict(active)
    wanted_judge = None
    if selection.judge is not None:
        wanted_judge = by_name.get(selection.judge)
        if wanted_judge is None:
            raise NotFound(f"no judge model is named {selection.judge!r}")
        if not selection.rubrics:
            raise InvalidInput("judge= picks the judge for the rubric versions given by rubric=")
    counts = await repo.scored_pair_counts(session) if selection.rubrics else []
    chosen: set[Track] = set()
    for prefix in selection.rubrics:
        version, track = _match_version(prefix, versions)
        if track in chosen:
            raise InvalidInput(f"two rubric versions were given for {track}")
        chosen.add(track)
        current = active.get(track)
        scored = [c for c in counts if c.track == track and c.rubric_version == version]
        if wanted_judge is not None:
            scored = [c for c in scored if c.judge_model_id == wanted_judge.id]
        elif current is not None:
            # Prefer the active judge's scores under the older rubric, when it has any.
            same_judge = [c for c in scored if c.judge_model_id == current.judge_model_id]
            scored = same_judge or scored
        is_current = (
            current is not None
            and current.rubric_version == version
            and (wanted_judge is None or wanted_judge.id == current.judge_model_id)
        )
        if is_current:
            continue
        if not scored:
            raise NotFound(
                f"no published scores exist for {track} under rubric version {version[:12]}"
                + (f" and judge {wanted_judge.name}" if wanted_judge else "")
            )
        latest = max(scored, key=lambda c: (c.last_computed_at or REPORTED_TIME, c.judge_model_id))
        pairs[track] = Pair(track, version, latest.judge_model_id)
    sources = await _rubric_sources(session, [pair.rubric_version for pair in pairs.values()])
    result: dict[Track, BoardPair] = {}
    for track in Track:
        pair = pairs.get(track)
        if pair is None:
            continue
        judge = judges[pair.judge_model_id]
        result[track] = BoardPair(
            track=track,
            rubric_version=pair.rubric_version,
            judge_model_id=judge.id,
            judge_model=judge.name,
            judge_is_reference=judge.is_reference,
            active=active.get(track) == pair,
            dimensions=sources.get(pair.rubric_version, ()),
        )
    return result


async def _rubric_sources(
    session: AsyncSession, versions: Sequence[str]
) -> dict[str, tuple[Dimension, ...]]:
    dimensions: dict[str, tuple[Dimension, ...]] = {}
    for version in set(versions):
        row = await judging_repo.get_rubric_version(session, version)
        if row is None:
            continue
        rubric = parse_rubric(row.source, origin=f"rubric {version[:12]}")
        dimensions[version] = tuple(Dimension(d.id, d.name) for d in rubric.dimensions)
    return dimensions


def _judged_cell(cell: repo.ScoredCell, attempts: int | None) -> Cell:
    return Cell(
        score=cell.score,
        f1=cell.f1,
        ci_low=cell.ci_low,
        ci_high=cell.ci_high,
        item_count=cell.item_count,
        answered_count=cell.answered_count,
        judge_errors=cell.judge_error_count,
        dimension_means=cell.dimension_means,
        submission_id=cell.submission_id,
        submitted_at=cell.submitted_at,
        run_id=cell.run_id,
        gold_version_id=cell.gold_version_id,
        pinned=cell.pinned,
        computed_at=cell.computed_at,
        attempts=attempts,
    )


def judged_cells(
    scored: Sequence[repo.ScoredCell], attempts: Mapping[tuple[int, Track], int] | None = None
) -> dict[int, dict[Track, Cell]]:
    """Model id → track → the cell to show: the first row per (model, track) in the repository's
    order (pinned first, then newest), with the model's scored submissions on the track."""
    attempts = attempts or {}
    cells: dict[int, dict[Track, Cell]] = {}
    for row in scored:
        per_model = cells.setdefault(row.model_id, {})
        if row.track not in per_model:
            # The shown submission is scored, so it counts at least itself.
            count = max(attempts.get((row.model_id, row.track), 0), 1)
            per_model[row.track] = _judged_cell(row, count)
    return cells


def reported_cells(row: repo.ReportedRow) -> dict[Track, Cell]:
    scores = {Track.T1: row.t1_score, Track.T2: row.t2_score, Track.T3: row.t3_score}
    scores[Track.T4] = row.t4_score
    return {
        track: Cell(score=score, f1=row.t1_f1 if track == Track.T1 else None)
        for track, score in scores.items()
        if score is not None
    }


async def build_board(session: AsyncSession, selection: Selection | None = None) -> Board:
    """Every entry under the selected pairs, from stored aggregates (a few queries)."""
    selection = selection or Selection()
    pairs = await resolve_pairs(session, selection)
    models = await repo.models(session)
    scored = await repo.scored_cells(
        session, [Pair(t, p.rubric_version, p.judge_model_id) for t, p in pairs.items()]
    )
    attempts = await repo.attempts(session)
    entries: list[Entry] = []
    for model_id, cells in judged_cells(scored, attempts).items():
        entries.append(Entry(info=models[model_id], kind=EntryKind.JUDGED, cells=cells))
    reported_times: list[datetime] = []
    for row in await repo.reported(session):
        reported_times.append(row.created_at)
        entries.append(
            Entry(
                info=models[row.model_id],
                kind=EntryKind.REPORTED,
                cells=reported_cells(row),
                source=row.source,
                protocol=row.protocol,
            )
        )
    kinds_per_model: dict[int, int] = {}
    for entry in entries:
        kinds_per_model[entry.info.id] = kinds_per_model.get(entry.info.id, 0) + 1
    entries = [
        replace(e, label=f"{e.info.name} ({e.kind})" if kinds_per_model[e.info.id] > 1 else "")
        for e in entries
    ]
    ordered = [ranked.entry for ranked in rank_entries(entries)]
    changes = [t for t in (e.last_change for e in entries) if t is not None] + reported_times
    choices = await _choices(session, pairs)
    return Board(
        entries=tuple(ordered),
        pairs=pairs,
        choices=choices,
        last_updated=max(changes) if changes else None,
        selection=selection,
    )


async def _choices(
    session: AsyncSession, pairs: Mapping[Track, BoardPair]
) -> tuple[RubricChoice, ...]:
    active = await repo.active_pairs(session)
    judges = await repo.judges(session)
    choices = []
    for count in await repo.scored_pair_counts(session):
        judge = judges[count.judge_model_id]
        current = active.get(count.track)
        choices.append(
            RubricChoice(
                track=count.track,
                rubric_version=count.rubric_version,
                judge_model=judge.name,
                judge_is_reference=judge.is_reference,
                runs=count.runs,
                active=current is not None
                and (current.rubric_version, current.judge_model_id)
                == (count.rubric_version, count.judge_model_id),
            )
        )
    choices.sort(key=lambda c: (c.track, not c.active, c.rubric_version, c.judge_model))
    return tuple(choices)
