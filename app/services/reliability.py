"""Judge reliability: human labels in, agreement with the judge out (per track and dimension).

The judge's side is always the track's *active* rubric and judge model: for each labelled
submission, its newest scored run under that pair. So the report follows every switch — after a
rejudge it compares the humans with the new judgements. Definitions: app/scoring/agreement.py
and docs/maintainers.md.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import SubmissionState
from app.errors import InvalidInput
from app.formats.human_labels import HumanLabelFile, LabelTarget, parse_human_labels
from app.repositories import gold as gold_repo
from app.repositories import judging as judging_repo
from app.repositories import rejudge as rejudge_repo
from app.repositories import reliability as reliability_repo
from app.rubrics.model import DimensionKind, Rubric
from app.scoring.agreement import agreement, rater_kappa
from app.services.audit import record_event
from app.services.configuration import active_pair, load_rubric
from app.tracks import Track


@dataclass(frozen=True)
class ImportReport:
    labels: int
    created: int
    updated: int
    lines: int
    submissions: int
    raters: list[str]
    tracks: list[str]


@dataclass(frozen=True)
class DimensionReliability:
    dimension: str
    name: str
    scale: str  # "YES/NO" or "0–2"
    weighted: bool  # quadratic-weighted kappa
    items: int  # labelled items with a judge rating on this dimension
    pairs: int  # (judge, human label) pairs: an item labelled by two raters counts twice
    accuracy: float | None
    kappa: float | None
    false_positive_rate: float | None  # judge credit where the human said NO (0)
    prevalence: float | None  # human labels above 0
    human_kappa: float | None  # two raters on the same items: the ceiling
    human_items: int  # items both raters labelled


@dataclass(frozen=True)
class TrackReliability:
    track: Track
    rubric_version: str
    judge_model: str
    judge_is_reference: bool
    labels: int  # human labels on this track
    unmatched: int  # labels with no judge rating under the active pair (not judged, errors)
    other_dimensions: int  # labels on dimensions the active rubric does not have
    dimensions: list[DimensionReliability]


async def import_labels(
    session: AsyncSession, data: bytes, *, filename: str, actor: str
) -> ImportReport:
    """Validate the whole file against the submissions and active rubrics, then store it
    (a label given again replaces the stored value). Nothing is stored if any line is wrong."""
    shape = parse_human_labels(data, filename=filename)
    _raise_if_invalid(shape)
    submissions = await rejudge_repo.submissions_by_ids(session, sorted(shape.submission_ids))
    targets: dict[int, LabelTarget] = {}
    gold_items: dict[tuple[int, Track], frozenset[str]] = {}
    rubrics: dict[Track, Rubric] = {}
    for submission in submissions:
        if submission.state != SubmissionState.ACCEPTED:
            continue
        track = Track(submission.track)
        key = (submission.gold_version_id, track)
        if key not in gold_items:
            tracks = await gold_repo.item_tracks(session, submission.gold_version_id)
            gold_items[key] = frozenset(i for i, t in tracks.items() if t == track)
        targets[submission.id] = LabelTarget(track, gold_items[key])
        if track not in rubrics:
            rubrics[track] = await load_rubric(
                session, (await active_pair(session, track)).rubric_version
            )
    parsed = parse_human_labels(data, filename=filename, submissions=targets, rubrics=rubrics)
    _raise_if_invalid(parsed)
    existing = await reliability_repo.existing_keys(session, sorted(parsed.submission_ids))
    now = utcnow()
    rows = [
        {
            "track": label.track.value if label.track else "",  # always set once checked
            "submission_id": label.submission_id,
            "item_id": label.item_id,
            "dimension": label.dimension,
            "rater": label.rater,
            "value": label.value,
            "created_at": now,
        }
        for label in parsed.labels
    ]
    updated = sum(
        1
        for r in rows
        if (r["submission_id"], r["item_id"], r["dimension"], r["rater"]) in existing
    )
    await reliability_repo.upsert_labels(session, rows)
    report = ImportReport(
        labels=len(rows),
        created=len(rows) - updated,
        updated=updated,
        lines=parsed.line_count,
        submissions=len(parsed.submission_ids),
        raters=sorted({label.rater for label in parsed.labels}),
        tracks=sorted({label.track.value for label in parsed.labels if label.track}),
    )
    await record_event(
        session,
        actor=actor,
        action="human_labels.import",
        target=f"file:{filename}",
        details={
            "sha256": hashlib.sha256(data).hexdigest(),
            "labels": report.labels,
            "created": report.created,
            "updated": report.updated,
            "submissions": report.submissions,
            "raters": report.raters,
            "tracks": report.tracks,
        },
    )
    return report


def _raise_if_invalid(parsed: HumanLabelFile) -> None:
    if not parsed.ok:
        lines = parsed.report().splitlines()
        raise InvalidInput(lines[0], details=lines[1:])


async def reliability_report(
    session: AsyncSession, track: Track | None = None
) -> list[TrackReliability]:
    return [await _track_report(session, t) for t in ([track] if track else list(Track))]


async def _track_report(session: AsyncSession, track: Track) -> TrackReliability:
    pair = await active_pair(session, track)
    rubric = await load_rubric(session, pair.rubric_version)
    judge = await judging_repo.get_judge_model(session, pair.judge_model_id)
    labels = await reliability_repo.labels_for_track(session, track)
    submission_ids = sorted({label.submission_id for label in labels})
    runs = await rejudge_repo.scored_runs_under_pair(
        session, submission_ids, pair.rubric_version, pair.judge_model_id
    )
    judged = await reliability_repo.judged_ratings(session, [run.id for run in runs.values()])

    def judge_rating(submission_id: int, item_id: str, dimension: str) -> int | None:
        run = runs.get(submission_id)
        if run is None:
            return None
        return judged[run.id].get(item_id, {}).get(dimension)

    known = set(rubric.dimension_ids)
    other = sum(1 for label in labels if label.dimension not in known)
    unmatched = sum(
        1
        for label in labels
        if label.dimension in known
        and judge_rating(label.submission_id, label.item_id, label.dimension) is None
    )
    dimensions: list[DimensionReliability] = []
    for dim in rubric.dimensions:
        judge_values: list[int] = []
        human_values: list[int] = []
        items: set[tuple[int, str]] = set()
        by_item: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
        for label in labels:
            if label.dimension != dim.id:
                continue
            by_item[(label.submission_id, label.item_id)][label.rater] = label.value
            rating = judge_rating(label.submission_id, label.item_id, dim.id)
            if rating is None:
                continue
            judge_values.append(rating)
            human_values.append(label.value)
            items.add((label.submission_id, label.item_id))
        first: list[int] = []
        second: list[int] = []
        for raters in by_item.values():
            if len(raters) >= 2:
                a, b = sorted(raters)[:2]  # the two alphabetically first raters
                first.append(raters[a])
                second.append(raters[b])
        stats = agreement(judge_values, human_values, dim.max_value)
        dimensions.append(
            DimensionReliability(
                dimension=dim.id,
                name=dim.name,
                scale="YES/NO" if dim.kind is DimensionKind.BINARY else f"0–{dim.max_value}",
                weighted=stats.weighted,
                items=len(items),
                pairs=stats.pairs,
                accuracy=stats.accuracy,
                kappa=stats.kappa,
                false_positive_rate=stats.false_positive_rate,
                prevalence=stats.prevalence,
                human_kappa=rater_kappa(first, second, dim.max_value),
                human_items=len(first),
            )
        )
    return TrackReliability(
        track=track,
        rubric_version=pair.rubric_version,
        judge_model=pair.judge_model,
        judge_is_reference=bool(judge and judge.is_reference),
        labels=len(labels),
        unmatched=unmatched,
        other_dimensions=other,
        dimensions=dimensions,
    )


# --------------------------------------------------------------------------------------------
# The public judge page: agreement with human labels and the judge's own failure rates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRate:
    """A rate of one run counter over the items sent to the judge. Adding a rate is one more
    entry in RUN_RATES (the counter must be a column of evaluation_runs)."""

    key: str
    name: str
    column: str
    definition: str
    tracks: frozenset[Track] | None = None  # the tracks whose runs count it (None: every track)

    def applies_to(self, track: Track | None) -> bool:
        return track is None or self.tracks is None or track in self.tracks


RUN_RATES: tuple[RunRate, ...] = (
    RunRate(
        "judge_error_rate",
        "Judge-error rate",
        "judge_error_count",
        "answered items left without a verdict when the run was scored (a reply that never "
        "parsed as the rubric's JSON after retries, a request the judge refused, or an item that "
        "could not be sent, such as an image over the size limit), over the answered items, "
        "across the judge's scored runs on this track",
    ),
    RunRate(
        "judge_inconsistency_rate",
        "Judge-inconsistency rate",
        "judge_inconsistencies",
        "T1 only: items whose verdicts contradict each other (exact diagnosis YES but right "
        "category NO), over the answered items, across the judge's scored runs on T1",
        frozenset({Track.T1}),
    ),
)


@dataclass(frozen=True)
class RateValue:
    rate: RunRate
    count: int
    items: int
    value: float | None  # None: no items judged yet


def run_rates(
    sums: dict[str, int],
    items: int,
    rates: tuple[RunRate, ...] = RUN_RATES,
    track: Track | None = None,
) -> list[RateValue]:
    """Each rate's count over `items` (pure); with `track`, only the rates that track counts."""
    return [
        RateValue(
            rate,
            sums.get(rate.column, 0),
            items,
            sums.get(rate.column, 0) / items if items else None,
        )
        for rate in rates
        if rate.applies_to(track)
    ]


@dataclass(frozen=True)
class JudgeTrackReport:
    """One track's active judge in public: agreement (when labels exist) and its rates."""

    reliability: TrackReliability
    runs: int  # scored runs under the active pair
    items: int  # items sent to the judge over those runs
    rates: list[RateValue]

    @property
    def track(self) -> Track:
        return self.reliability.track

    @property
    def has_labels(self) -> bool:
        return any(d.pairs for d in self.reliability.dimensions)


async def judge_report(session: AsyncSession) -> list[JudgeTrackReport]:
    """Per track, the active judge's agreement with human labels and its run rates."""
    reports = []
    for track in Track:
        reliability = await _track_report(session, track)
        pair = await active_pair(session, track)
        runs, items, sums = await reliability_repo.scored_run_sums(
            session,
            track,
            pair.rubric_version,
            pair.judge_model_id,
            [rate.column for rate in RUN_RATES if rate.applies_to(track)],
        )
        rates = run_rates(sums, items, track=track)
        reports.append(JudgeTrackReport(reliability, runs, items, rates))
    return reports
