"""Rubric versions as plain values: what the judge is asked and how its ratings become a score."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from app.tracks import Track

# Gold fields a rubric's prompt may show. The reference answer is always shown; the others are
# declared per rubric (`shows`), so what the judge sees is part of the rubric's version.
ALWAYS_SHOWN = ("reference_answer",)
SHOWABLE_FIELDS = ("aliases", "targets", "context", "category", "orpha_code", "evidence", "images")
# The fields that appear as text sections of the reference block (images are attached instead).
TEXT_FIELDS = (
    "reference_answer",
    "aliases",
    "targets",
    "context",
    "category",
    "orpha_code",
    "evidence",
)


class DimensionKind(StrEnum):
    BINARY = "binary"  # judge answers "YES" / "NO"; stored as 1 / 0
    ORDINAL = "ordinal"  # judge answers an integer 0..max_value


@dataclass(frozen=True)
class Dimension:
    id: str  # stable key in the judge's JSON reply and in stored results
    name: str
    kind: DimensionKind
    weight: float
    criterion: str  # what the judge must check, shown to it verbatim
    max_value: int = 1  # 1 for binary, 2 for the T4 ordinal scale
    anchors: dict[int, str] = field(default_factory=dict)  # ordinal only: meaning of 0/1/2


@dataclass(frozen=True)
class Gate:
    """Caps the item score when a gating dimension is not credited (T1: no exact match → ≤ 0.2)."""

    dimension: str
    cap: float


@dataclass(frozen=True)
class Implication:
    """A verdict rule: when `dimension` is credited, every dimension in `requires` must be too.

    A reply that breaks it is scored as given (the formula is unchanged) and counted as a judge
    inconsistency (T1: an exact match of the reference is necessarily in its disease category).
    """

    dimension: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class PromptTemplate:
    """Placeholders are written {{name}}, filled in one pass of plain replacement."""

    system: str
    user: str


@dataclass(frozen=True)
class Rubric:
    track: Track
    title: str
    dimensions: tuple[Dimension, ...]
    prompt: PromptTemplate
    gate: Gate | None = None
    shows: tuple[str, ...] = ()  # declared gold fields beyond the reference answer
    implies: tuple[Implication, ...] = ()
    rule: str = "weighted_mean"  # item score = Σ wᵢ·vᵢ/maxᵢ / Σ wᵢ, then the gate's cap
    version: str = ""  # sha256 of the file's bytes: the rubric's identity
    source: str = ""  # the file's text, so a stored version can be reloaded exactly

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def key_mismatch(self, keys: Iterable[str]) -> tuple[list[str], list[str]]:
        """(dimensions missing from `keys`, in rubric order; keys that are no dimension, sorted)."""
        given = set(keys)
        expected = self.dimension_ids
        return [d for d in expected if d not in given], sorted(given.difference(expected))

    @property
    def short_version(self) -> str:
        return self.version[:12]
