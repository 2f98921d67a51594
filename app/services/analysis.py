"""The paper's analyses recomputed from a board: the domain-specialisation gap (Sec. 4.2, Fig. 3)
and cross-track consistency (Sec. 4.3).

Provenance never mixes silently. A view reads one *source* of scores: the paper's reported
entries (the default: the paper reproduced), the entries judged here by one judge model (under
the board's rubric version per track), or, only when asked for, every entry mixed, where each
judged value carries a mark naming its judge. Numbers the paper does not define (capacity
dilution as a number, Spearman's ρ, paired intervals) come with a "computed here" definition.

Both read a `Board` (stored aggregates). The only per-item read is the paired bootstrap of a gap
between two judged runs on the same items, and that result is stored (`paired_gaps`) the first
time it is needed, so the caller commits after building a domain-gap view.
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.leaderboard.board import Board, Entry, EntryKind, judged_mark
from app.leaderboard.table import EntryFilter
from app.repositories import leaderboard as repo
from app.scoring.bootstrap import paired_bootstrap_gap
from app.scoring.domain_gap import (
    GapEntry,
    TrackGap,
    capacity_dilution,
    finding_sentence,
    track_gaps,
)
from app.scoring.ranking import competition_ranks, spearman
from app.scoring.summary import BoxStats, box_stats
from app.services.reported import PAPER_JUDGE  # re-exported for the analysis pages
from app.tracks import Track

# --------------------------------------------------------------------------------------------
# Sources: whose scores a view analyses
# --------------------------------------------------------------------------------------------

PAPER = "paper"
JUDGE = "judge"
MIXED = "mixed"
JUDGE_PREFIX = "judge:"


@dataclass(frozen=True)
class Source:
    """`paper` (default), `judge:<judge model name>` or `mixed`, as the `source` parameter."""

    kind: str
    judge: str | None = None

    @property
    def param(self) -> str:
        return f"{JUDGE_PREFIX}{self.judge}" if self.kind == JUDGE else self.kind

    @property
    def description(self) -> str:
        if self.kind == PAPER:
            return f"the paper's reported entries only (judge {PAPER_JUDGE}, the paper's rubrics)"
        if self.kind == JUDGE:
            return f"entries judged here by {self.judge} only (rubric versions as listed)"
        return (
            f"every entry mixed: reported values (judge {PAPER_JUDGE}) beside values judged "
            "here, each judged value marked with its judge"
        )


def source_options(board: Board) -> list[Source]:
    """Every source a view of `board` accepts: the paper, each judge of its pairs, mixed."""
    return [
        Source(PAPER),
        *(Source(JUDGE, name) for name, _ in board.judges),
        Source(MIXED),
    ]


def parse_source(text: str, board: Board) -> Source:
    """The `source` parameter: `paper`, `judge:<name>` (a judge of this board) or `mixed`."""
    value = text.strip()
    accepted = ", ".join(option.param for option in source_options(board))
    if value in ("", PAPER):
        return Source(PAPER)
    if value == MIXED:
        return Source(MIXED)
    if value.startswith(JUDGE_PREFIX):
        name = value[len(JUDGE_PREFIX) :].strip()
        if name in {judge for judge, _ in board.judges}:
            return Source(JUDGE, name)
        raise InvalidInput(
            f"source {value!r}: no entries on this board were judged by {name!r}. "
            f"Use one of: {accepted} (an older rubric version's judge: add rubric= and judge=)"
        )
    raise InvalidInput(f"source must be one of {accepted}, not {value!r}")


def value_judge(board: Board, entry: Entry, track: Track) -> str | None:
    """The judge behind an entry's score on `track`: None for a reported (paper) value."""
    if entry.kind != EntryKind.JUDGED:
        return None
    pair = board.pairs.get(track)
    return pair.judge_model if pair is not None else None


def source_entries(board: Board, source: Source) -> list[Entry]:
    """The entries a view under `source` analyses, in board order.

    paper: reported entries only. judge: judged entries, each keeping only the tracks that
    judge scored on this board (an entry left with none drops out). mixed: every entry.
    """
    if source.kind == PAPER:
        return [e for e in board.entries if e.kind == EntryKind.REPORTED]
    if source.kind == MIXED:
        return list(board.entries)
    chosen: list[Entry] = []
    for entry in board.entries:
        if entry.kind != EntryKind.JUDGED:
            continue
        cells = {
            t: c for t, c in entry.cells.items() if value_judge(board, entry, t) == source.judge
        }
        if cells:
            chosen.append(replace(entry, cells=cells))
    return chosen


# --------------------------------------------------------------------------------------------
# Numbers computed here: each carries its definition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    definition: str


CAPACITY_DILUTION = Definition(
    "capacity_dilution",
    "Capacity dilution (points)",
    "Computed here, not a number in the paper (which names the pattern in words): the gap to "
    "the best open general-purpose model on T3 minus the same gap on T1.",
)
SPEARMAN_RHO = Definition(
    "spearman_rho",
    "Spearman's ρ",
    "Computed here, not in the paper: Spearman's rank correlation between two tracks' scores "
    "over the entries scored on both (average ranks for ties); undefined below two entries or "
    "for a constant column.",
)
PAIRED_INTERVAL = Definition(
    "paired_interval",
    "Paired 95% interval of a gap",
    "Computed here, not in the paper: percentile bootstrap of the gap between two runs judged "
    "here, resampling the items both scored jointly for both models (judge errors left out).",
)
DOMAIN_GAP_DEFINITIONS = (CAPACITY_DILUTION, PAIRED_INTERVAL)
CONSISTENCY_DEFINITIONS = (SPEARMAN_RHO,)

# --------------------------------------------------------------------------------------------
# Domain gap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedInterval:
    """Gap (other − medical) over the items both runs scored, with its paired 95% interval."""

    gap: float
    low: float
    high: float
    items: int


@dataclass(frozen=True)
class Comparison:
    """Best medical entry against one general-purpose peak on one track."""

    label: str  # "open general-purpose" or "closed"
    medical: Entry | None
    other: Entry | None
    gap: float | None  # other − medical: positive means the medical model trails
    paired: PairedInterval | None


@dataclass(frozen=True)
class GroupScores:
    """One group's scores on one track, for the distribution chart."""

    group: str  # "general-purpose" or "medical"
    points: list[tuple[str, float]]  # (entry name, score), highest first
    box: BoxStats | None


@dataclass(frozen=True)
class TrackGapView:
    track: Track
    gaps: TrackGap
    vs_open: Comparison
    vs_closed: Comparison
    peak_general: Entry | None  # best non-medical entry, open or closed
    peak_medical: Entry | None
    finding: str
    general: GroupScores
    medical: GroupScores


@dataclass(frozen=True)
class DomainGapView:
    tracks: list[TrackGapView]
    capacity_dilution: float | None  # gap vs open on T3 − gap vs open on T1
    entries: int  # entries taking part (after the source and filters)
    source: Source = Source(PAPER)
    marks: Mapping[str, Mapping[Track, str]] = field(default_factory=dict)  # entry name → mark

    def mark(self, name: str, track: Track) -> str:
        """ "judged here by X" for a judged value in a mixed view, else empty."""
        return self.marks.get(name, {}).get(track, "")

    def track(self, track: Track) -> TrackGapView:
        return next(view for view in self.tracks if view.track == track)


def _ordered(entries: Sequence[Entry], track: Track) -> list[Entry]:
    """Earlier entries first, so `peak` (first wins a tie) gives ties to the earlier one."""
    return sorted(entries, key=lambda e: (e.tie_time(track), e.name.casefold()))


def gap_entry(entry: Entry, marks: Mapping[Track, str] | None = None) -> GapEntry:
    return GapEntry(
        name=entry.name,
        open_weights=entry.info.open_weights,
        medical=entry.info.medical,
        scores={track: entry.score(track) for track in Track},
        marks=marks or {},
    )


def _group_scores(group: str, entries: Sequence[Entry], track: Track) -> GroupScores:
    points = sorted(
        ((e.name, score) for e in entries if (score := e.score(track)) is not None),
        key=lambda p: (-p[1], p[0].casefold()),
    )
    return GroupScores(group, points, box_stats([score for _, score in points]))


async def paired_gap(
    session: AsyncSession, other: Entry, medical: Entry, track: Track, *, resamples: int, seed: int
) -> PairedInterval | None:
    """Paired bootstrap of other − medical when both are judged runs on the same gold items.

    Read from `paired_gaps` when stored; otherwise computed from the two runs' item scores (items
    either run could not judge are left out of both) and stored for every later view.
    """
    a, b = other.cells.get(track), medical.cells.get(track)
    if other.kind != EntryKind.JUDGED or medical.kind != EntryKind.JUDGED or a is None or b is None:
        return None
    if a.run_id is None or b.run_id is None or a.gold_version_id != b.gold_version_id:
        return None
    stored = await repo.stored_gap(session, a.run_id, b.run_id, resamples=resamples, seed=seed)
    if stored is None:
        items = await repo.paired_item_scores(session, [a.run_id, b.run_id])
        first, second = items[a.run_id], items[b.run_id]
        shared = sorted(set(first) & set(second))
        pairs = [(first[i], second[i]) for i in shared]
        kept = [(x, y) for x, y in pairs if x is not None and y is not None]
        if not kept:
            return None
        gap, low, high = paired_bootstrap_gap(
            [x for x, _ in kept], [y for _, y in kept], resamples=resamples, seed=seed
        )
        stored = repo.StoredGap(gap, low, high, len(kept))
        await repo.store_gap(
            session, a.run_id, b.run_id, resamples=resamples, seed=seed, gap=stored
        )
    return PairedInterval(stored.gap, stored.ci_low, stored.ci_high, stored.item_count)


async def domain_gap_view(
    session: AsyncSession,
    board: Board,
    filters: EntryFilter,
    *,
    resamples: int,
    seed: int,
    source: Source = Source(PAPER),
) -> DomainGapView:
    """Fig. 3 and the Sec. 4.2 numbers from the entries of `source` that match `filters`."""
    entries = filters.apply(source_entries(board, source))
    by_name = {entry.name: entry for entry in entries}
    marks = entry_marks(board, entries, source)
    views: list[TrackGapView] = []
    gaps: dict[Track, TrackGap] = {}
    for track in Track:
        ordered = _ordered(entries, track)
        gap = track_gaps([gap_entry(e, marks.get(e.name)) for e in ordered], track)
        gaps[track] = gap
        medical = by_name[gap.best_medical.name] if gap.best_medical else None
        comparisons = []
        for label, side, value in (
            ("open general-purpose", gap.best_general_open, gap.gap_vs_open),
            ("closed", gap.best_closed, gap.gap_vs_closed),
        ):
            other = by_name[side.name] if side else None
            paired = None
            if other is not None and medical is not None:
                paired = await paired_gap(
                    session, other, medical, track, resamples=resamples, seed=seed
                )
            comparisons.append(Comparison(label, medical, other, value, paired))
        general = [e for e in ordered if not e.info.medical]
        medical_group = [e for e in ordered if e.info.medical]
        peak_general = _best(general, track)
        views.append(
            TrackGapView(
                track=track,
                gaps=gap,
                vs_open=comparisons[0],
                vs_closed=comparisons[1],
                peak_general=peak_general,
                peak_medical=medical,
                finding=finding_sentence(gap, track),
                general=_group_scores("general-purpose", general, track),
                medical=_group_scores("medical", medical_group, track),
            )
        )
    return DomainGapView(views, capacity_dilution(gaps), len(entries), source, marks)


def entry_marks(
    board: Board, entries: Sequence[Entry], source: Source
) -> dict[str, dict[Track, str]]:
    """In a mixed view, per judged entry and track, "judged here by <judge>"; otherwise none
    (a paper or single-judge view states its one source once, above the numbers)."""
    if source.kind != MIXED:
        return {}
    marks: dict[str, dict[Track, str]] = {}
    for entry in entries:
        per_track = {t: judged_mark(value_judge(board, entry, t)) for t in entry.cells}
        if any(per_track.values()):
            marks[entry.name] = per_track
    return marks


def _best(entries: Sequence[Entry], track: Track) -> Entry | None:
    best: Entry | None = None
    for entry in entries:
        score = entry.score(track)
        if score is not None and (best is None or score > (best.score(track) or 0.0)):
            best = entry
    return best


# --------------------------------------------------------------------------------------------
# Cross-track consistency
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correlation:
    a: Track
    b: Track
    rho: float | None  # None: undefined (fewer than two entries, or a constant column)
    n: int  # entries with a score on both tracks


@dataclass(frozen=True)
class FirstPlaces:
    entry: Entry
    tracks: list[Track]


@dataclass(frozen=True)
class ConsistencyView:
    correlations: list[Correlation]  # every unordered pair of tracks, T1–T2 … T3–T4
    firsts: list[FirstPlaces]  # every entry, most first places first
    leaders: Mapping[Track, list[Entry]]  # rank 1 on each track (ties share it)
    entries: int
    source: Source = Source(PAPER)
    marks: Mapping[str, Mapping[Track, str]] = field(default_factory=dict)  # entry name → mark

    @property
    def max_firsts(self) -> int:
        return max((len(f.tracks) for f in self.firsts), default=0)

    def rho(self, a: Track, b: Track) -> float | None:
        if a == b:
            return 1.0
        for c in self.correlations:
            if {c.a, c.b} == {a, b}:
                return c.rho
        return None

    def n(self, a: Track, b: Track) -> int:
        for c in self.correlations:
            if {c.a, c.b} == {a, b}:
                return c.n
        return 0


def consistency_view(
    board: Board, filters: EntryFilter, source: Source = Source(PAPER)
) -> ConsistencyView:
    """Spearman's ρ between every pair of tracks (entries scored on both), and first places.

    First place on a track is competition rank 1 with ties to the earlier submission; reported
    entries tie with each other, so an exact tie in the paper is a shared first place.
    """
    entries = filters.apply(source_entries(board, source))
    correlations = []
    for a, b in itertools.combinations(Track, 2):
        both = [(e.score(a), e.score(b)) for e in entries]
        pairs = [(x, y) for x, y in both if x is not None and y is not None]
        rho = spearman([x for x, _ in pairs], [y for _, y in pairs])
        correlations.append(Correlation(a, b, rho, len(pairs)))
    leaders: dict[Track, list[Entry]] = {}
    firsts: dict[str, list[Track]] = {entry.key: [] for entry in entries}
    for track in Track:
        ranks = competition_ranks(
            [e.score(track) for e in entries], tie_break=[e.tie_time(track) for e in entries]
        )
        leaders[track] = [e for e, rank in zip(entries, ranks, strict=True) if rank == 1]
        for entry in leaders[track]:
            firsts[entry.key].append(track)
    ranked = sorted(entries, key=lambda e: (-len(firsts[e.key]), e.name.casefold()))
    return ConsistencyView(
        correlations=correlations,
        firsts=[FirstPlaces(entry, firsts[entry.key]) for entry in ranked],
        leaders=leaders,
        entries=len(entries),
        source=source,
        marks=entry_marks(board, entries, source),
    )
