"""Which rows a view shows: domain, weights, kind, name, organisation and size filters.

Pure: a filter is a value, `matches` a function of one entry (docs/leaderboard.md, "Query
parameters").
"""

from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import InvalidInput
from app.leaderboard.board import Access, Domain, Entry, EntryKind
from app.leaderboard.columns import size_in_billions


@dataclass(frozen=True)
class EntryFilter:
    """Which rows a view shows. Plain strings are accepted and turned into their enum.

    `organisation` matches the whole name, any case; `size_min` / `size_max` bound the model's
    size in billions of parameters (inclusive), and a model of unknown size matches neither.
    """

    domain: Domain | None = None
    access: Access | None = None
    kind: EntryKind | None = None
    q: str = ""  # case-insensitive substring of the model name
    organisation: str = ""
    size_min: float | None = None
    size_max: float | None = None

    def __post_init__(self) -> None:
        for name, enum in (("domain", Domain), ("access", Access), ("kind", EntryKind)):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                object.__setattr__(self, name, enum(value))
            except ValueError:
                allowed = ", ".join(member.value for member in enum)
                raise InvalidInput(f"{name} must be one of {allowed}, not {value!r}") from None
        for name in ("size_min", "size_max"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInput(f"{name} is in billions of parameters, at least 0, not {value}")
        low, high = self.size_min, self.size_max
        if low is not None and high is not None and low > high:
            raise InvalidInput(
                f"size_min ({low:g}) is above size_max ({high:g}): give the smaller size in "
                "billions first"
            )

    def matches(self, entry: Entry) -> bool:
        info = entry.info
        if self.domain is not None and info.medical != (self.domain == Domain.MEDICAL):
            return False
        if self.access is not None and info.open_weights != (self.access == Access.OPEN):
            return False
        if self.kind is not None and entry.kind != self.kind:
            return False
        if self.q and self.q.casefold() not in info.name.casefold():
            return False
        if self.organisation and not same_organisation(info.organisation, self.organisation):
            return False
        return self.size_matches(size_in_billions(info.parameter_count))

    def size_matches(self, billions: float | None) -> bool:
        if self.size_min is None and self.size_max is None:
            return True
        if billions is None:
            return False
        low_ok = self.size_min is None or billions >= self.size_min
        return low_ok and (self.size_max is None or billions <= self.size_max)

    def apply(self, entries: Sequence[Entry]) -> list[Entry]:
        return [entry for entry in entries if self.matches(entry)]

    @property
    def active(self) -> bool:
        return any((self.domain, self.access, self.kind, self.q, self.organisation)) or (
            self.size_min is not None or self.size_max is not None
        )


def same_organisation(stored: str | None, wanted: str) -> bool:
    """Organisations compare whole, ignoring case and surrounding spaces."""
    return stored is not None and stored.strip().casefold() == wanted.strip().casefold()


def organisations(entries: Sequence[Entry]) -> list[str]:
    """The organisations on a board, once each (first spelling wins), by name: the filter's
    choices."""
    found: dict[str, str] = {}
    for entry in entries:
        name = (entry.info.organisation or "").strip()
        if name:
            found.setdefault(name.casefold(), name)
    return sorted(found.values(), key=str.casefold)
