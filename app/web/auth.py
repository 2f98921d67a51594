"""Who is asking, declared once as typed dependencies.

API routes take a bearer token. Maintainer pages may instead use the sign-in cookie that
/admin/login sets: for reads as is, for page forms only with the form's CSRF token.
"""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import tokens_match
from app.db.base import utcnow
from app.errors import Forbidden, Unauthorized
from app.services.accounts import Principal, authenticate, record_token_use, token_use_due
from app.unit_of_work import transaction
from app.web import csrf
from app.web.deps import KeysDep, get_runtime

ADMIN_COOKIE = "mmrare_admin"

_bearer = HTTPBearer(auto_error=False, description="An API token from `mmrare token create`")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials and credentials.credentials else None


async def authenticated(request: Request, token: str) -> Principal:
    """The token's principal, or 401. The token is looked up, and its use written down (at most
    once per TOKEN_USE_RESOLUTION), in a short transaction of its own: the request's unit of
    work holds no token row lock, and no connection while an upload's body streams in."""
    runtime = await get_runtime(request)
    async with transaction(runtime.sessions) as session:
        principal = await authenticate(session, token)
        if principal is None:
            raise Unauthorized("the API token is unknown or revoked; ask your team for a new one")
        now = utcnow()
        if token_use_due(principal.last_used_at, now):
            await record_token_use(session, principal.token_id, now)
    request.state.principal = principal
    return principal


def _require_admin(principal: Principal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("this is for maintainers: the token is not an admin token")
    return principal


async def current_principal(request: Request, bearer: Bearer) -> Principal:
    token = _bearer_token(bearer)
    if token is None:
        raise Unauthorized(
            "this endpoint needs an API token: send 'Authorization: Bearer <token>' "
            "(create one with `mmrare token create --team NAME`)"
        )
    return await authenticated(request, token)


async def admin_principal(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    return _require_admin(principal)


async def optional_principal(request: Request, bearer: Bearer) -> Principal | None:
    """For reads that show more to a token holder (a team's private submissions). No token:
    None; a token that is unknown or revoked is still refused (401), not silently ignored."""
    token = _bearer_token(bearer)
    return None if token is None else await authenticated(request, token)


async def admin_from_token(request: Request, token: str | None) -> Principal:
    """A maintainer by token, wherever the token came from (header, cookie, sign-in form)."""
    if not token:
        raise Unauthorized(
            "maintainer pages need an admin token: send 'Authorization: Bearer <token>' or sign "
            "in at /admin/login"
        )
    return _require_admin(await authenticated(request, token))


async def admin_reader(request: Request, bearer: Bearer) -> Principal:
    """A maintainer by bearer token or by the sign-in cookie: for reads only."""
    token = _bearer_token(bearer) or request.cookies.get(ADMIN_COOKIE)
    return await admin_from_token(request, token)


async def admin_form(
    request: Request,
    keys: KeysDep,
    bearer: Bearer,
    csrf_field: Annotated[str, Form(alias="csrf")] = "",
) -> Principal:
    """A maintainer posting a page form: a bearer header, or the cookie plus its CSRF token."""
    token = _bearer_token(bearer)
    if token is not None:
        return await admin_from_token(request, token)
    cookie = request.cookies.get(ADMIN_COOKIE)
    principal = await admin_from_token(request, cookie)
    assert cookie is not None
    expected = csrf.admin_form_token(keys.form_key, cookie)
    if not tokens_match(csrf_field, expected):
        raise Forbidden("the form's CSRF token is missing or stale; reload the page and try again")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AdminReader = Annotated[Principal, Depends(admin_reader)]
AdminForm = Annotated[Principal, Depends(admin_form)]
