"""The four MMRareBench tracks: the one vocabulary every room shares."""

from enum import StrEnum


class Track(StrEnum):
    T1 = "T1"  # diagnosis
    T2 = "T2"  # treatment planning
    T3 = "T3"  # cross-image evidence alignment
    T4 = "T4"  # examination suggestion

    @property
    def label(self) -> str:
        return TRACK_TITLES[self]


TRACK_TITLES: dict[Track, str] = {
    Track.T1: "Diagnosis",
    Track.T2: "Treatment planning",
    Track.T3: "Cross-image evidence alignment",
    Track.T4: "Examination suggestion",
}
