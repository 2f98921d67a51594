"""Every error becomes an HTTP response here, once, in one shape (ErrorBody).

The rule: a request whose path is under `/api/` gets JSON (`{"error": {...}}`); any other path
(the HTML site, /docs, /static, and unknown paths) gets the error page in the site's layout,
with the same message. The path decides, not the Accept header, so a link, a bookmark and a
script see the same kind of answer for the same URL.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    ServiceNotReady,
    Unauthorized,
)
from app.web.api.schemas.errors import ErrorBody, ErrorInfo, FieldProblem
from app.web.middleware import SECURITY_HEADERS
from app.web.templating import templates

API_PREFIX = "/api/"

STATUS_CODES: dict[type[DomainError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    PayloadTooLarge: 413,
    QuotaExceeded: 429,
    ServiceNotReady: 503,
}


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 400


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def status_type(status: int) -> str:
    """The error type of a bare HTTP status: 405 → MethodNotAllowed."""
    return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")


def error_response(
    request: Request, status: int, info: ErrorInfo, headers: Mapping[str, str] | None = None
) -> Response:
    """The one way an error is answered: JSON under /api/, the error page elsewhere."""
    info = ErrorInfo.model_validate(encodable(info.model_dump()))
    if is_api_path(request.url.path):
        body = ErrorBody(error=info).model_dump(mode="json")
        return JSONResponse(body, status_code=status, headers=headers)
    return templates.TemplateResponse(
        request,
        "errors/error.html",
        {
            "status": status,
            "title": HTTPStatus(status).phrase,
            "message": info.message,
            "details": info.details,
        },
        status_code=status,
        headers=headers,
    )


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers = {}
    if isinstance(exc, QuotaExceeded):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, PayloadTooLarge):
        # The rest of the upload is not read: closing the connection stops the client sending
        # it (otherwise the server would have to read and discard it to keep the connection).
        headers["Connection"] = "close"
    info = ErrorInfo(type=type(exc).__name__, message=exc.message, details=exc.details)
    return error_response(request, status_for(exc), info, headers)


def encodable(value: Any) -> Any:
    """`value` with every string made valid UTF-8: a lone surrogate becomes U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    return value


_PLACES = {"query": "query parameter", "path": "path parameter", "header": "header"}


def field_problem(error: dict[str, Any]) -> FieldProblem:
    """One pydantic error as a FieldProblem. The input itself is not echoed; the location is
    made encodable, since a request carrying a lone surrogate (in a JSON key, say) would
    otherwise turn its 422 into a 500 while the answer is written."""
    loc = [part if isinstance(part, int) else str(part) for part in encodable(error["loc"])]
    source, *rest = loc or ["request"]
    name = ".".join(str(part) for part in rest)
    if source in _PLACES:
        where = f"{_PLACES[source]} {name!r}"
    elif source == "body":
        where = f"body field {name!r}" if name else "the request body"
    else:
        where = ".".join(str(part) for part in loc)
    return FieldProblem(loc=loc, where=where, message=encodable(str(error.get("msg", ""))))


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [field_problem(error) for error in exc.errors()]
    lines = [f"{p.where}: {p.message}" for p in problems]
    more = f" (and {len(lines) - 1} more problem(s), listed in details)" if len(lines) > 1 else ""
    first = lines[0] if lines else "the request is not valid"
    info = ErrorInfo(
        type="RequestValidationError",
        message=f"{first}{more}; fix the request and send it again",
        details=lines,
        fields=problems,
    )
    return error_response(request, 422, info)


def _http_message(request: Request, exc: StarletteHTTPException) -> str:
    path = request.url.path
    if exc.status_code == 404:
        where = "see /docs for the API" if is_api_path(path) else "start from the home page, /"
        return f"there is nothing at {path}; {where}"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed at {path}" + (
            f"; it answers {allowed}" if allowed else ""
        )
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return detail or HTTPStatus(exc.status_code).phrase


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's own HTTP errors (unknown route, wrong method, …)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400:  # not an error (FastAPI uses the class for 304s too)
        return Response(status_code=exc.status_code, headers=exc.headers)
    info = ErrorInfo(type=status_type(exc.status_code), message=_http_message(request, exc))
    return error_response(request, exc.status_code, info, exc.headers)


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    """An unexpected failure: the same shape, and nothing of the failure's text (which may
    hold anything). The exception still reaches the server's log: Starlette re-raises it."""
    info = ErrorInfo(
        type="InternalServerError",
        message="the server failed to answer this request; it was logged. Try again later, "
        "and tell the maintainers if it persists",
    )
    # Sent by Starlette's outermost layer, past the middleware that adds these headers.
    return error_response(request, 500, info, dict(SECURITY_HEADERS))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)
