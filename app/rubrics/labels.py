"""Human names of rubric dimensions: the one lookup every surface uses (CLI, status page, diffs,
CSV headers), so `disease_category` reads "Disease category" everywhere."""

from functools import cache

from app.rubrics.loader import bundled_rubrics
from app.tracks import Track


@cache
def _names() -> dict[tuple[str | None, str], str]:
    names: dict[tuple[str | None, str], str] = {}
    for track, rubric in bundled_rubrics().items():
        for dimension in rubric.dimensions:
            names[(track.value, dimension.id)] = dimension.name
            names.setdefault((None, dimension.id), dimension.name)
    return names


def dimension_label(dimension: str, track: Track | str | None = None) -> str:
    """The rubric's name of `dimension` (on `track` when given, as ids may repeat across
    tracks); an id no bundled rubric knows (a later version's) reads as words."""
    names = _names()
    key = Track(track).value if track else None
    found = names.get((key, dimension)) or names.get((None, dimension))
    return found or dimension.replace("_", " ").strip().capitalize()


def dimension_labels(
    dimensions: dict[str, float], track: Track | str | None = None
) -> dict[str, float]:
    """`dimension id -> value` keyed by human names instead, in the same order."""
    return {dimension_label(d, track): value for d, value in dimensions.items()}
