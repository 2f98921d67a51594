"""Who is asking, declared once as typed dependencies.

API routes take a bearer token. Maintainer pages may instead use the sign-in cookie that
/admin/login sets (a signed, expiring session: `app/web/admin_session.py`): for reads as is, for
page forms only with the form's CSRF token.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Keys, tokens_match
from app.db.base import utcnow
from app.errors import Forbidden, Unauthorized
from app.services.accounts import (
    Principal,
    authenticate,
    authenticate_token_id,
    hash_token,
    record_token_use,
    token_use_due,
)
from app.unit_of_work import transaction
from app.web import admin_session, csrf
from app.web.deps import KeysDep, get_runtime

ADMIN_COOKIE = "mmrare_admin"

_bearer = HTTPBearer(auto_error=False, description="An API token from `mmrare token create`")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials and credentials.credentials else None


Lookup = Callable[[AsyncSession], Awaitable[Principal | None]]


async def authenticated(request: Request, token: str) -> Principal:
    """The token's principal, or 401."""
    return await _signed_in(
        request,
        lambda session: authenticate(session, token),
        "the API token is unknown or revoked; ask your team for a new one",
    )


async def _signed_in(request: Request, lookup: Lookup, refusal: str) -> Principal:
    """The principal `lookup` finds, or 401 with `refusal`. The token is looked up, and its use
    written down (at most once per TOKEN_USE_RESOLUTION), in a short transaction of its own:
    the request's unit of work holds no token row lock, and no connection while an upload's
    body streams in."""
    runtime = await get_runtime(request)
    async with transaction(runtime.sessions) as session:
        principal = await lookup(session)
        if principal is None:
            raise Unauthorized(refusal)
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


def session_cookie(keys: Keys, principal: Principal, token: str) -> str:
    """The sign-in cookie's value for an admin who signed in with `token`."""
    return admin_session.issue(
        keys.admin_session_key, principal.token_id, hash_token(token), time.time()
    )


async def admin_from_session(request: Request, keys: Keys, cookie: str) -> Principal:
    """A maintainer by the sign-in cookie: its signature, expiry and token are checked."""
    refusal = (
        "your maintainer sign-in has expired or is no longer valid (the admin token may have "
        "been revoked); sign in again at /admin/login"
    )
    claim = admin_session.read(cookie, time.time())
    if claim is None:
        raise Unauthorized(refusal)

    async def lookup(session: AsyncSession) -> Principal | None:
        found = await authenticate_token_id(session, claim.token_id)
        if found is None or not claim.is_signed_for(keys.admin_session_key, found[1]):
            return None
        return found[0]

    return _require_admin(await _signed_in(request, lookup, refusal))


async def admin_reader(request: Request, keys: KeysDep, bearer: Bearer) -> Principal:
    """A maintainer by bearer token or by the sign-in cookie: for reads only."""
    token = _bearer_token(bearer)
    cookie = request.cookies.get(ADMIN_COOKIE)
    if token is None and cookie:
        return await admin_from_session(request, keys, cookie)
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
    if not cookie:
        return await admin_from_token(request, None)  # refused, saying how to sign in
    principal = await admin_from_session(request, keys, cookie)
    expected = csrf.admin_form_token(keys.form_key, cookie)
    if not tokens_match(csrf_field, expected):
        raise Forbidden("the form's CSRF token is missing or stale; reload the page and try again")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AdminReader = Annotated[Principal, Depends(admin_reader)]
AdminForm = Annotated[Principal, Depends(admin_form)]
