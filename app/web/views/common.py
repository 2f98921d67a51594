"""What every view shares: query parameters turned into a board selection, filters and a table
query; the cached board and the cached response; the pieces every payload carries.
"""

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import NotFound
from app.leaderboard.board import Board, BoardPair, Cell, Selection
from app.leaderboard.table import (
    EntryFilter,
    TableQuery,
)
from app.services import leaderboard as service
from app.tracks import Track
from app.web.api.schemas import views as schemas
from app.web.deps import SessionDep, SettingsDep
from app.web.http_cache import Body, ViewCache, ViewCacheDep, respond

CSV = "text/csv; charset=utf-8"
JSON = "application/json"
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON or CSV"},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
}

ParamsDep = Annotated[schemas.ViewParams, Query()]
TableParamsDep = Annotated[schemas.TableParams, Query()]
OverviewParamsDep = Annotated[schemas.OverviewParams, Query()]


def selection_of(params: schemas.ViewParams) -> Selection:
    return Selection(rubrics=tuple(params.rubric), judge=params.judge)


def filters_of(params: schemas.ViewParams) -> EntryFilter:
    return EntryFilter(
        domain=params.domain,
        access=params.access,
        kind=params.kind,
        q=params.q,
        organisation=params.organisation,
        size_min=params.size_min,
        size_max=params.size_max,
    )


def query_of(params: schemas.ViewParams) -> TableQuery:
    return TableQuery(
        filters=filters_of(params),
        sort=params.sort,
        direction=params.dir,
        page=params.page,
        show_all=params.all,
        columns=params.columns() if isinstance(params, schemas.TableParams) else (),
    )


async def load_board(
    session: SessionDep, cache: ViewCache, params: schemas.ViewParams, stamp: Hashable
) -> Board:
    selection = selection_of(params)
    return await cache.get_or_build(
        ("board", selection.cache_key, stamp), lambda: service.build_board(session, selection)
    )


Params = TypeVar("Params", bound=schemas.ViewParams)
V = TypeVar("V")


@dataclass(frozen=True)
class BoardViews:
    """What every view of the board needs: the request, its session, the view cache and the
    settings. `respond` renders a view once per (parameters, change stamp)."""

    request: Request
    session: AsyncSession
    cache: ViewCache
    settings: Settings

    async def respond(
        self, view: str, params: schemas.ViewParams, build: Callable[[Board], Awaitable[Body]]
    ) -> Response:
        """`view` built from the board its parameters select, answered with validators."""
        stamp = await self.cache.stamp(
            lambda: service.board_stamp(self.session), self.settings.leaderboard_recheck_seconds
        )

        async def render() -> Body:
            return await build(await load_board(self.session, self.cache, params, stamp))

        body = await self.cache.get_or_build((view, params.cache_key(), stamp), render)
        return respond(self.request, body)

    async def answer(
        self,
        surface: str,
        view: "BoardView[Params, V]",
        params: Params,
        html: Callable[[Board, V, Params], Body] | None = None,
    ) -> Response:
        """`view` as JSON or CSV, or, given `html`, as a page (its CSV still with `format=csv`);
        cached as `{surface}:{view.name}`."""

        async def build(board: Board) -> Body:
            loaded = await view.load(self, board, params)
            if html is None or params.format == "csv":
                return view.export(board, loaded, params)
            return html(board, loaded, params)

        return await self.respond(f"{surface}:{view.name}", params, build)


@dataclass(frozen=True)
class BoardView(Generic[Params, V]):
    """A view of the board that the API and the pages both serve: how it is read from the board
    its parameters select, and how it is exported (JSON, or one of its tables as CSV)."""

    name: str
    load: Callable[[BoardViews, Board, Params], Awaitable[V]]
    export: Callable[[Board, V, Params], Body]


async def get_board_views(
    request: Request, session: SessionDep, settings: SettingsDep, cache: ViewCacheDep
) -> BoardViews:
    return BoardViews(request, session, cache, settings)


BoardViewsDep = Annotated[BoardViews, Depends(get_board_views)]


def pair_payload(pair: BoardPair) -> schemas.BoardPair:
    return schemas.BoardPair.model_validate(pair)


def filters_payload(filters: EntryFilter) -> schemas.ViewFilters:
    return schemas.ViewFilters.model_validate(filters)


def track_entry(cell: Cell, pair: BoardPair | None, judged: bool) -> schemas.TrackEntry:
    """A cell as read from the board; the rubric and judge come from the track's pair."""
    entry = schemas.TrackEntry.model_validate(cell)
    if judged and pair is not None:
        entry.rubric_version = pair.rubric_version
        entry.judge_model = pair.judge_model
        entry.judge = pair.judge_model
        entry.judge_is_reference = pair.judge_is_reference
    return entry


def quote_name(name: str) -> str:
    """A model name as one URL path segment."""
    return quote(name, safe="")


def parse_track(value: str) -> Track:
    try:
        return Track(value.upper())
    except ValueError:
        raise NotFound(
            f"no track {value!r}: the tracks are {', '.join(t.value for t in Track)}"
        ) from None


def json_body(model: Any) -> Body:
    return Body.of(model.model_dump_json(), JSON)


P = TypeVar("P", bound=BaseModel)


def tables_body(
    payload: P,
    params: schemas.ViewParams,
    to_table: Callable[[P, str], str],
    default_table: str,
    name: str,
) -> Body:
    """A payload as JSON, or one of its tables as CSV (`{name}-{table}.csv`) with `format=csv`."""
    if params.format == "csv":
        table = params.table or default_table
        return Body.of(to_table(payload, table), CSV, f"{name}-{table}.csv")
    return json_body(payload)
