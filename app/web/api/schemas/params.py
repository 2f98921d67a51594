"""The query parameters of the leaderboard and analysis views: every view is a permalink."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from app.leaderboard.board import Access, Direction, Domain, EntryKind
from app.leaderboard.columns import DIMENSION_PREFIX, OVERVIEW_COLUMNS, Column, parse_columns
from app.web.api.schemas.fields import PlainLine


class ViewParams(BaseModel):
    """Query parameters shared by every leaderboard and analysis view: each view is a permalink.

    Empty values (as an HTML form sends them) mean "not set".
    """

    domain: Domain | None = Field(
        default=None,
        description="general: not medical; medical: medical-domain and medical unified",
    )
    access: Access | None = Field(default=None, description="open or closed weights")
    kind: EntryKind | None = Field(
        default=None, description="judged here, or reported in the paper"
    )
    q: PlainLine = Field(
        default="", max_length=200, description="Case-insensitive part of the model name"
    )
    organisation: PlainLine = Field(
        default="", max_length=200, description="The organisation, whole name, any case"
    )
    size_min: float | None = Field(
        default=None, ge=0, le=1e6, description="Smallest model size, billions of parameters"
    )
    size_max: float | None = Field(
        default=None,
        ge=0,
        le=1e6,
        description="Largest model size, billions of parameters (models of unknown size are "
        "left out when either bound is set)",
    )
    sort: PlainLine = Field(default="rank", max_length=80, description="Column key to sort by")
    dir: Direction | None = Field(
        default=None,
        description="Sort direction; default: descending for scores, ascending otherwise",
    )
    page: int = Field(default=1, ge=1, le=100_000)
    all: bool = Field(default=False, description="Every matching row on one page")
    rubric: list[PlainLine] = Field(
        default_factory=list,
        max_length=4,
        description="Older rubric version(s) to show, by id or a unique prefix (one per track)",
    )
    judge: PlainLine | None = Field(
        default=None,
        max_length=200,
        description="Judge model for the rubric versions given by rubric=",
    )
    format: Literal["json", "csv"] = Field(default="json", description="csv: the table as CSV")
    table: PlainLine | None = Field(
        default=None, max_length=40, description="Which table to export, where a page has several"
    )

    @field_validator(
        "domain", "access", "kind", "dir", "judge", "table", "size_min", "size_max", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("rubric", mode="before")
    @classmethod
    def _drop_empty_rubrics(cls, value: object) -> object:
        return _non_empty(value)

    def cache_key(self) -> tuple[object, ...]:
        return tuple(
            (name, tuple(value) if isinstance(value, list) else value)
            for name, value in sorted(self.model_dump().items())
        )

    def query_items(self, **overrides: object) -> list[tuple[str, str]]:
        """The parameters that differ from the defaults, with `overrides` applied."""
        values = {**self.model_dump(), **overrides}
        defaults = ViewParams().model_dump()
        items: list[tuple[str, str]] = []
        names = ("domain", "access", "kind", "q", "organisation", "size_min", "size_max")
        for name in (*names, "sort", "dir", "page", "all", "judge"):
            value = values[name]
            if value is None or value == defaults[name]:
                continue
            items.append((name, _query_value(value)))
        items += [("rubric", version) for version in values["rubric"]]
        for name in ("format", "table"):
            if values[name] is not None and values[name] != defaults[name]:
                items.append((name, str(values[name])))
        return items


def _non_empty(value: object) -> object:
    """A repeatable parameter without the empty values an HTML form sends."""
    if isinstance(value, list):
        return [v for v in value if v != ""]
    return [] if value == "" else value


def _query_value(value: object) -> str:
    """A parameter as a URL writes it: true/false, 7 rather than 7.0."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


COLUMNS_DESCRIPTION = (
    "Columns to show, as a comma-separated list of keys (or repeated): "
    f"{', '.join(OVERVIEW_COLUMNS)} on the overview; {Column.RANK}, {Column.MODEL}, "
    f"{Column.ORGANISATION}, {Column.SIZE}, {Column.SCORE}, {Column.F1} (T1), "
    f"{DIMENSION_PREFIX}<id>, {Column.ITEMS}, {Column.COVERAGE} on a track page. The model "
    "column is always shown; unset: the default columns. The CSV keeps the fields of the "
    "chosen columns; the JSON keeps every field."
)


class TableParams(ViewParams):
    """The view parameters plus the table's columns (`cols=`)."""

    cols: list[PlainLine] = Field(
        default_factory=list, max_length=40, description=COLUMNS_DESCRIPTION
    )

    @field_validator("cols", mode="before")
    @classmethod
    def _drop_empty_columns(cls, value: object) -> object:
        return _non_empty(value)

    def columns(self) -> tuple[str, ...]:
        return parse_columns(self.cols)

    def query_items(self, **overrides: object) -> list[tuple[str, str]]:
        cols = overrides.pop("cols", self.cols)
        items = super().query_items(**overrides)
        joined = ",".join(parse_columns(cols)) if isinstance(cols, list | tuple) else ""
        if joined:
            # Before format= and table=, so an export link reads as the page's link plus them.
            at = next((i for i, (k, _) in enumerate(items) if k in ("format", "table")), len(items))
            items.insert(at, ("cols", joined))
        return items


class OverviewParams(TableParams):
    """The view parameters plus the overview's ranking."""

    rank_by: PlainLine = Field(
        default="mean",
        max_length=20,
        description="What ranks the overview: T1, T2, T3 or T4 (that track's score) or mean (the "
        "mean across tracks, computed here, not in the paper)",
    )

    @field_validator("rank_by", mode="before")
    @classmethod
    def _empty_is_mean(cls, value: object) -> object:
        return "mean" if value in ("", None) else value

    def query_items(self, **overrides: object) -> list[tuple[str, str]]:
        rank_by = overrides.pop("rank_by", self.rank_by)
        items = super().query_items(**overrides)
        if rank_by not in (None, "", "mean"):
            items.insert(0, ("rank_by", str(rank_by)))
        return items
