"""The paper's Sec. 4.2 domain-specialisation gap, recomputed from whatever scores are on the board.

Groups: "medical" is the medical flag (medical-domain and medical unified models alike);
"open general-purpose" is non-medical with open weights; "closed" is non-medical without open
weights, so every gap compares medical fine-tuning against a general-purpose model.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.tracks import Track


@dataclass(frozen=True)
class GapEntry:
    name: str
    open_weights: bool
    medical: bool
    scores: Mapping[Track, float | None]
    # Per track, a mark naming where a value comes from (e.g. "judged here by X"), printed in
    # finding sentences; empty where the value needs none.
    marks: Mapping[Track, str] = field(default_factory=dict)

    def score(self, track: Track) -> float | None:
        return self.scores.get(track)


@dataclass(frozen=True)
class TrackGap:
    """Peak scorers of one track and the gaps between them; a positive gap means medical trails."""

    best_medical: GapEntry | None
    best_general_open: GapEntry | None
    best_closed: GapEntry | None
    gap_vs_open: float | None  # best open general-purpose − best medical
    gap_vs_closed: float | None  # best closed − best medical


def _gap(other: GapEntry | None, medical: GapEntry | None, track: Track) -> float | None:
    if other is None or medical is None:
        return None
    other_score = other.score(track)
    medical_score = medical.score(track)
    if other_score is None or medical_score is None:
        return None
    return other_score - medical_score


def peak(
    entries: Iterable[GapEntry], track: Track, *, medical: bool, open_weights: bool | None = None
) -> GapEntry | None:
    """Best scorer on `track` in the group; on a tie the earlier entry wins (input order)."""
    best: GapEntry | None = None
    best_score = 0.0
    for entry in entries:
        if entry.medical != medical:
            continue
        if open_weights is not None and entry.open_weights != open_weights:
            continue
        score = entry.score(track)
        if score is None:
            continue
        if best is None or score > best_score:
            best, best_score = entry, score
    return best


def track_gaps(entries: Iterable[GapEntry], track: Track) -> TrackGap:
    """The three peaks the paper compares on one track (Fig. 3a)."""
    pool = list(entries)
    best_medical = peak(pool, track, medical=True)
    best_general_open = peak(pool, track, medical=False, open_weights=True)
    best_closed = peak(pool, track, medical=False, open_weights=False)
    return TrackGap(
        best_medical=best_medical,
        best_general_open=best_general_open,
        best_closed=best_closed,
        gap_vs_open=_gap(best_general_open, best_medical, track),
        gap_vs_closed=_gap(best_closed, best_medical, track),
    )


def capacity_dilution(gaps: Mapping[Track, TrackGap]) -> float | None:
    """How much the open-model gap widens from diagnosis (T1) to cross-image alignment (T3)."""
    t1 = gaps.get(Track.T1)
    t3 = gaps.get(Track.T3)
    if t1 is None or t3 is None:
        return None
    t1_gap = t1.gap_vs_open
    t3_gap = t3.gap_vs_open
    if t1_gap is None or t3_gap is None:
        return None
    return t3_gap - t1_gap


def _named(label: str, entry: GapEntry, track: Track) -> str:
    mark = entry.marks.get(track)
    return f"{label} ({entry.name}, {entry.score(track):.1f}{f', {mark}' if mark else ''})"


def _comparison(gap: float) -> tuple[str, str]:
    """Verb and amount, judged on the rounded gap so a sentence never says "by 0.0 points"."""
    rounded = round(gap, 1)
    if rounded > 0:
        return "trails", f" by {rounded:.1f} points"
    if rounded < 0:
        return "leads", f" by {-rounded:.1f} points"
    return "matches", ""


def finding_sentence(track_gap: TrackGap, track: Track) -> str:
    """One plain-English sentence stating the gaps, for the domain-gap page."""
    medical = track_gap.best_medical
    if medical is None or medical.score(track) is None:
        return f"On {track}, no medical model has a score yet, so there is no gap to report."
    subject = f"On {track}, {_named('the best medical model', medical, track)}"
    clauses: list[tuple[str, str]] = []
    sides = (
        ("the best open general-purpose model", track_gap.best_general_open, track_gap.gap_vs_open),
        ("the best closed model", track_gap.best_closed, track_gap.gap_vs_closed),
    )
    for label, other, gap in sides:
        if other is None or gap is None:
            continue
        verb, amount = _comparison(gap)
        clauses.append((verb, f"{_named(label, other, track)}{amount}"))
    if not clauses:
        return f"{subject} has no general-purpose model to compare with."
    first_verb, first_object = clauses[0]
    sentence = f"{subject} {first_verb} {first_object}"
    if len(clauses) == 2:
        second_verb, second_object = clauses[1]
        if second_verb == first_verb:
            sentence += f" and {second_object}"
        else:
            sentence += f" but {second_verb} {second_object}"
    return sentence + "."
