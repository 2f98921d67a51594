"""Domain errors become HTTP responses here, once: JSON under /api, an error page elsewhere."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

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
from app.web.templating import templates

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


def error_body(error: DomainError) -> dict[str, object]:
    return {
        "error": {
            "type": type(error).__name__,
            "message": error.message,
            "details": error.details,
        }
    }


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    headers = {}
    if isinstance(exc, QuotaExceeded):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, PayloadTooLarge):
        # The rest of the upload is not read: closing the connection stops the client sending
        # it (otherwise the server would have to read and discard it to keep the connection).
        headers["Connection"] = "close"
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_body(exc), status_code=status, headers=headers)
    return templates.TemplateResponse(
        request,
        "errors/error.html",
        {"status": status, "message": exc.message, "details": exc.details},
        status_code=status,
        headers=headers,
    )


def encodable(value: Any) -> Any:
    """`value` with every string made valid UTF-8: a lone surrogate becomes U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    return value


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's own 422 answer, its echoed inputs made encodable: a request carrying a lone
    surrogate would otherwise turn its 422 into a 500 while the answer is written."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": jsonable_encoder(encodable(exc.errors()))}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
