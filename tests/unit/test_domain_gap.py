import pytest

from app.scoring.domain_gap import (
    GapEntry,
    capacity_dilution,
    finding_sentence,
    peak,
    track_gaps,
)
from app.tracks import Track

# Tables 2 and 3 of the paper: model, access, domain, T1 score, T2, T3, T4 (T1 F1 left out).
PAPER_ROWS = [
    ("GPT-5", "closed", "general", 75.9, 49.2, 70.8, 77.9),
    ("GPT-4o", "closed", "general", 62.5, 12.7, 15.6, 42.8),
    ("Claude-Haiku-4.5", "closed", "general", 30.9, 34.2, 41.9, 80.6),
    ("Claude-Sonnet-4.5", "closed", "general", 68.5, 35.8, 54.7, 85.9),
    ("Gemini-2.5-Flash", "closed", "general", 62.2, 17.1, 54.9, 66.9),
    ("Gemini-2.5-Pro", "closed", "general", 74.0, 26.7, 66.9, 85.5),
    ("Gemini-3-Flash-Preview", "closed", "general", 76.6, 29.1, 62.9, 81.8),
    ("GLM-4.6v", "open", "general", 25.8, 20.5, 28.7, 18.7),
    ("Qwen3-VL-235B-Instruct", "open", "general", 58.1, 35.9, 56.6, 83.2),
    ("Qwen3-VL-30B-Instruct", "open", "general", 46.9, 20.1, 36.9, 63.1),
    ("Qwen3-VL-8B-Instruct", "open", "general", 39.3, 10.8, 25.7, 43.9),
    ("Qwen2.5-VL-72B", "open", "general", 52.6, 8.7, 18.9, 42.3),
    ("Qwen2.5-VL-32B", "open", "general", 46.9, 12.8, 21.2, 42.0),
    ("Qwen2.5-VL-7B", "open", "general", 33.7, 7.2, 5.5, 30.0),
    ("Hulu-Med-14B", "open", "medical", 52.0, 14.2, 6.1, 38.8),
    ("Hulu-Med-7B", "open", "medical", 42.2, 11.3, 4.9, 34.1),
    ("Hulu-Med-4B", "open", "medical", 39.8, 10.4, 4.3, 37.2),
    ("Lingshu-32B", "open", "medical", 49.8, 14.2, 8.7, 36.9),
    ("Lingshu-7B", "open", "medical", 37.9, 12.1, 4.0, 35.1),
    ("Medgemma-27b-it", "open", "medical", 43.7, 15.4, 27.3, 56.0),
    ("Medgemma-4b-it", "open", "medical", 30.5, 5.5, 2.9, 33.1),
    ("HealthGPT-L14-Compre", "open", "medical", 36.0, 14.1, 0.6, 20.4),  # medical unified
    ("UniMedVL", "open", "medical", 18.3, 9.6, 0.9, 32.5),  # medical unified
]

TRACKS = (Track.T1, Track.T2, Track.T3, Track.T4)

PAPER = [
    GapEntry(
        name=name,
        open_weights=access == "open",
        medical=domain == "medical",
        scores=dict(zip(TRACKS, scores, strict=True)),
    )
    for name, access, domain, *scores in PAPER_ROWS
]


def entry(name: str, *, open_weights: bool, medical: bool, t1: float | None) -> GapEntry:
    return GapEntry(name, open_weights, medical, {Track.T1: t1})


def test_paper_has_23_models_of_which_9_medical() -> None:
    assert len(PAPER) == 23
    assert sum(e.medical for e in PAPER) == 9


def test_paper_t1_gap_is_only_6_points() -> None:
    gap = track_gaps(PAPER, Track.T1)
    assert gap.best_medical is not None and gap.best_medical.name == "Hulu-Med-14B"
    assert gap.best_general_open is not None
    assert gap.best_general_open.name == "Qwen3-VL-235B-Instruct"
    assert gap.gap_vs_open == pytest.approx(6.1)


def test_paper_t3_gap_is_over_29_and_43_5_points() -> None:
    gap = track_gaps(PAPER, Track.T3)
    assert gap.best_medical is not None and gap.best_medical.name == "Medgemma-27b-it"
    assert gap.best_general_open is not None
    assert gap.best_general_open.name == "Qwen3-VL-235B-Instruct"
    assert gap.best_closed is not None and gap.best_closed.name == "GPT-5"
    assert gap.gap_vs_open == pytest.approx(29.3)
    assert gap.gap_vs_closed == pytest.approx(43.5)


def test_paper_capacity_dilution() -> None:
    gaps = {track: track_gaps(PAPER, track) for track in TRACKS}
    assert capacity_dilution(gaps) == pytest.approx(29.3 - 6.1)
    assert capacity_dilution(gaps) == pytest.approx(23.2)


def test_paper_t3_sentence() -> None:
    assert finding_sentence(track_gaps(PAPER, Track.T3), Track.T3) == (
        "On T3, the best medical model (Medgemma-27b-it, 27.3) trails the best open "
        "general-purpose model (Qwen3-VL-235B-Instruct, 56.6) by 29.3 points and the best "
        "closed model (GPT-5, 70.8) by 43.5 points."
    )


def test_peak_filters_by_group_and_skips_missing_scores() -> None:
    entries = [
        entry("closed-med", open_weights=False, medical=True, t1=90.0),
        entry("open-med", open_weights=True, medical=True, t1=50.0),
        entry("open-med-unscored", open_weights=True, medical=True, t1=None),
        entry("open-general", open_weights=True, medical=False, t1=60.0),
    ]
    assert peak(entries, Track.T1, medical=True) == entries[0]
    assert peak(entries, Track.T1, medical=True, open_weights=True) == entries[1]
    assert peak(entries, Track.T1, medical=False, open_weights=False) is None
    assert peak(entries, Track.T2, medical=False) is None


def test_peak_tie_goes_to_the_earlier_entry() -> None:
    first = entry("first", open_weights=True, medical=False, t1=50.0)
    second = entry("second", open_weights=True, medical=False, t1=50.0)
    assert peak([first, second], Track.T1, medical=False) is first


def test_missing_sides_give_no_gap() -> None:
    gap = track_gaps([entry("m", open_weights=True, medical=True, t1=40.0)], Track.T1)
    assert gap.best_general_open is None and gap.best_closed is None
    assert gap.gap_vs_open is None and gap.gap_vs_closed is None
    assert capacity_dilution({Track.T1: gap, Track.T3: gap}) is None
    assert capacity_dilution({Track.T1: gap}) is None
    assert finding_sentence(gap, Track.T1) == (
        "On T1, the best medical model (m, 40.0) has no general-purpose model to compare with."
    )


def test_sentence_without_medical_models() -> None:
    gap = track_gaps([entry("g", open_weights=True, medical=False, t1=40.0)], Track.T1)
    assert gap.best_medical is None and gap.gap_vs_open is None
    assert finding_sentence(gap, Track.T1) == (
        "On T1, no medical model has a score yet, so there is no gap to report."
    )


def test_sentence_with_one_side() -> None:
    entries = [
        entry("m", open_weights=True, medical=True, t1=40.0),
        entry("c", open_weights=False, medical=False, t1=45.5),
    ]
    assert finding_sentence(track_gaps(entries, Track.T1), Track.T1) == (
        "On T1, the best medical model (m, 40.0) trails the best closed model (c, 45.5) "
        "by 5.5 points."
    )


def test_sentence_when_the_medical_model_leads() -> None:
    entries = [
        entry("m", open_weights=True, medical=True, t1=60.0),
        entry("g", open_weights=True, medical=False, t1=58.0),
        entry("c", open_weights=False, medical=False, t1=70.0),
    ]
    gap = track_gaps(entries, Track.T1)
    assert gap.gap_vs_open == pytest.approx(-2.0)
    assert finding_sentence(gap, Track.T1) == (
        "On T1, the best medical model (m, 60.0) leads the best open general-purpose model "
        "(g, 58.0) by 2.0 points but trails the best closed model (c, 70.0) by 10.0 points."
    )


def test_sentence_when_tied() -> None:
    entries = [
        entry("m", open_weights=True, medical=True, t1=58.0),
        entry("g", open_weights=True, medical=False, t1=58.0),
    ]
    assert finding_sentence(track_gaps(entries, Track.T1), Track.T1) == (
        "On T1, the best medical model (m, 58.0) matches the best open general-purpose model "
        "(g, 58.0)."
    )
