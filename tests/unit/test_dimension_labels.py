"""Dimension ids read as their rubric's names, per track, with a readable fallback."""

from app.rubrics.labels import dimension_label, dimension_labels
from app.rubrics.loader import bundled_rubrics
from app.tracks import Track


def test_every_bundled_dimension_has_its_rubric_name() -> None:
    for track, rubric in bundled_rubrics().items():
        for dimension in rubric.dimensions:
            assert dimension_label(dimension.id, track) == dimension.name
            assert dimension_label(dimension.id, track.value) == dimension.name


def test_known_ids_without_a_track_and_unknown_ids() -> None:
    assert dimension_label("disease_category") == "Disease category"
    assert dimension_label("exact_match", Track.T1) == "Exact diagnosis match"
    assert dimension_label("new_criterion_v2", Track.T3) == "New criterion v2"
    assert dimension_labels({"exact_match": 1.0, "x_y": 2.0}, "T1") == {
        "Exact diagnosis match": 1.0,
        "X y": 2.0,
    }
