"""The one error body: every 4xx and 5xx answer of the JSON API has this shape (domain errors,
refused request inputs, unknown routes, wrong methods, timeouts), and OpenAPI declares it for
every error status a route family can return."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    """One refused input of a request that did not validate."""

    loc: list[str | int] = Field(
        description='Where, as a path: ["query", "page"], ["body", "note"]'
    )
    where: str = Field(description="The same in words: \"query parameter 'page'\"")
    message: str = Field(description="What is wrong with it")


class ErrorInfo(BaseModel):
    type: str = Field(
        description="The kind of error: InvalidInput, NotFound, Conflict, Unauthorized, "
        "Forbidden, PayloadTooLarge, QuotaExceeded, ServiceNotReady, RequestValidationError, "
        "MethodNotAllowed, RequestTimeout, InternalServerError"
    )
    message: str = Field(description="What went wrong, where, and how to fix it")
    details: list[str] = Field(
        default_factory=list, description="Further lines, e.g. one per refused line of a file"
    )
    fields: list[FieldProblem] = Field(
        default_factory=list, description="The refused inputs of a request that did not validate"
    )


class ErrorBody(BaseModel):
    """`{"error": {...}}`. A rejected upload's 422 carries the same `error` beside the
    submission's own fields."""

    error: ErrorInfo


DESCRIPTIONS: dict[int, str] = {
    400: "The request body could not be parsed (not UTF-8 JSON, or a broken form)",
    401: "No API token, or an unknown or revoked one",
    403: "The token may not do this (another team's, or not a maintainer's)",
    404: "No such resource (or a private one of another team)",
    408: "The request body did not arrive within REQUEST_BODY_TIMEOUT_SECONDS",
    409: "The request conflicts with the resource's current state",
    413: "The request body is too large",
    422: "An input is invalid: the message names it (and `fields` each refused parameter)",
    429: "Quota used up; see Retry-After",
    503: "The service lacks set-up a maintainer must do",
}


def error_responses(
    *statuses: int, notes: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error statuses, each answered with ErrorBody. A route's
    note (`{404: "No such run"}`) replaces a status's generic description."""
    notes = notes or {}
    return {
        status: {"model": ErrorBody, "description": notes.get(status, DESCRIPTIONS[status])}
        for status in sorted({*statuses, *notes})
    }


# The route families: what each kind of route can answer besides success.
PUBLIC_READ = error_responses(404, 422)
"""Anyone may read (leaderboards, analyses, model pages)."""
TOKEN_READ = error_responses(401, 404, 409, 422)
"""Public reads that show more to a token holder; an unknown token is refused."""
TEAM_WRITE = error_responses(400, 401, 403, 404, 408, 409, 413, 422, 429, 503)
"""A team's token changes something (uploads, models, publishing)."""
MAINTAINER = error_responses(400, 401, 403, 404, 408, 409, 413, 422, 503)
"""An admin token reads or changes something."""
