"""The one Jinja environment for HTML pages (autoescaping on)."""

from datetime import datetime
from urllib.parse import quote, urlsplit

from fastapi.templating import Jinja2Templates

from app.leaderboard.board import judged_mark
from app.leaderboard.columns import size_label
from app.resources import resource_path
from app.rubrics.labels import dimension_label

templates = Jinja2Templates(directory=resource_path("templates"))


def _score(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["score"] = _score
# "judged here by <judge>": the one wording of a value judged here, in tables, badges and charts.
templates.env.globals["judged_mark"] = judged_mark
templates.env.filters["when"] = _when
# A dimension id as its rubric names it: `{{ dim | dimension_label(track) }}`.
templates.env.filters["dimension_label"] = dimension_label


def _signed(value: float | None, digits: int = 1) -> str:
    """+6.1 / −6.1 (a true minus sign) / 0.0; "–" when there is no value."""
    if value is None:
        return "–"
    rounded = round(value, digits)
    if rounded == 0:
        return f"{0:.{digits}f}"
    sign = "+" if rounded > 0 else "−"
    return f"{sign}{abs(rounded):.{digits}f}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def _day(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


def _path_segment(value: str) -> str:
    """A model name as one URL path segment (slashes and all escaped)."""
    return quote(value, safe="")


def _web_url(value: str | None) -> str | None:
    """Only http(s) links become hrefs: a submitter's `javascript:` URL stays text."""
    if not value:
        return None
    return value if urlsplit(value).scheme in ("http", "https") else None


templates.env.filters["signed"] = _signed
templates.env.filters["percent"] = _percent
templates.env.filters["day"] = _day
templates.env.filters["path_segment"] = _path_segment
templates.env.filters["web_url"] = _web_url
templates.env.filters["size"] = size_label
