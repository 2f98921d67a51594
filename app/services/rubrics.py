"""Rubric versions for maintainers: load (content hash = identity), list, activate.

Activating a version moves the track's board to it at once, so it is refused while some board
submission has no score under that version (rejudge instead: it switches when its runs are done);
`force` activates anyway, and those submissions leave the board until they are rescored.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import RubricVersion
from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import judging as judging_repo
from app.repositories import rejudge as rejudge_repo
from app.rubrics.loader import RubricError, parse_rubric
from app.rubrics.model import Rubric
from app.services.audit import check_note, record_event
from app.services.configuration import active_pair
from app.tracks import Track

MAX_RUBRIC_CHARS = 1_000_000
MIN_PREFIX = 4


@dataclass(frozen=True)
class LoadedRubric:
    rubric: Rubric
    created: bool  # False: the same content was already registered (nothing changed)


@dataclass(frozen=True)
class RubricInfo:
    version: str
    track: Track
    title: str
    created_at: datetime
    active: bool
    scored_runs: int
    note: str | None = None

    @property
    def short_version(self) -> str:
        return self.version[:12]


@dataclass(frozen=True)
class Activation:
    track: Track
    version: str
    previous: str
    changed: bool
    unscored: int  # board submissions without a score under the version (left the board)


def parse_rubric_text(text: str, *, origin: str) -> Rubric:
    if len(text) > MAX_RUBRIC_CHARS:
        raise InvalidInput(f"{origin}: the rubric is longer than {MAX_RUBRIC_CHARS:,} characters")
    try:
        return parse_rubric(text, origin=origin)
    except RubricError as exc:
        raise InvalidInput(str(exc)) from None


async def load_rubric(
    session: AsyncSession, text: str, *, origin: str, actor: str, note: str | None = None
) -> LoadedRubric:
    """Register a rubric version with the maintainer's change note; the same content again is
    a no-op (not audited, its first note kept)."""
    note = note.strip() if note and note.strip() else None
    check_note(note)
    rubric = parse_rubric_text(text, origin=origin)
    existing = await judging_repo.get_rubric_version(session, rubric.version)
    if existing is not None:
        return LoadedRubric(rubric, created=False)
    await judging_repo.ensure_rubric_version(session, rubric, note=note)
    await record_event(
        session,
        actor=actor,
        action="rubric.load",
        target=f"rubric:{rubric.version}",
        details={
            "track": rubric.track.value,
            "title": rubric.title,
            "origin": origin,
            "note": note,
        },
    )
    return LoadedRubric(rubric, created=True)


async def list_rubrics(session: AsyncSession, track: Track | None = None) -> list[RubricInfo]:
    active = {t: c.rubric_version for t, c in (await judging_repo.track_configs(session)).items()}
    scored = await rejudge_repo.scored_runs_by_rubric(session)
    return [
        RubricInfo(
            version=row.version,
            track=Track(row.track),
            title=row.title,
            created_at=row.created_at,
            active=active.get(Track(row.track)) == row.version,
            scored_runs=scored.get(row.version, 0),
            note=row.note,
        )
        for row in await judging_repo.list_rubric_versions(session, track)
    ]


async def resolve_version(
    session: AsyncSession, prefix: str, *, track: Track | None = None
) -> RubricVersion:
    """The rubric version a (unique) prefix of its hash names."""
    prefix = prefix.strip().lower()
    if len(prefix) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
        raise InvalidInput(
            f"rubric version {prefix!r}: give at least {MIN_PREFIX} hex characters of the "
            "version (see `mmrare rubric list`)"
        )
    matches = await judging_repo.rubric_versions_with_prefix(session, prefix)
    if not matches:
        raise NotFound(f"no rubric version starts with {prefix!r}; see `mmrare rubric list`")
    if len(matches) > 1:
        listed = ", ".join(f"{m.version[:16]} ({m.track})" for m in matches)
        raise InvalidInput(
            f"rubric version prefix {prefix!r} is ambiguous: {listed}; give more characters"
        )
    version = matches[0]
    if track is not None and version.track != track.value:
        raise InvalidInput(
            f"rubric version {version.version[:12]} is a {version.track} rubric, not {track}"
        )
    return version


async def activate_rubric(
    session: AsyncSession, track: Track, prefix: str, *, actor: str, force: bool = False
) -> Activation:
    version = await resolve_version(session, prefix, track=track)
    pair = await active_pair(session, track)
    if pair.rubric_version == version.version:
        return Activation(track, version.version, pair.rubric_version, changed=False, unscored=0)
    board = await rejudge_repo.submissions_on_board(
        session, track, pair.rubric_version, pair.judge_model_id
    )
    scored = await rejudge_repo.scored_runs_under_pair(
        session, [s.id for s in board], version.version, pair.judge_model_id
    )
    unscored = [s.id for s in board if s.id not in scored]
    if unscored and not force:
        raise Conflict(
            f"{len(unscored)} of the {len(board)} {track} submissions on the board have no score "
            f"under rubric {version.version[:12]} and judge {pair.judge_model}; rejudge them "
            f"(`mmrare rejudge --track {track} --rubric {version.version[:12]}` switches the "
            "track when it is done) or activate with force to drop them from the board",
            details=[f"submission {sid}" for sid in unscored[:20]],
        )
    await judging_repo.set_track_config(session, track, version.version, pair.judge_model_id)
    await record_event(
        session,
        actor=actor,
        action="rubric.activate",
        target=f"track:{track}",
        details={
            "version": version.version,
            "previous": pair.rubric_version,
            "judge_model": pair.judge_model,
            "forced": force,
            "unscored_submissions": unscored,
        },
    )
    return Activation(track, version.version, pair.rubric_version, True, len(unscored))
