"""Bearer-token authentication for mutating endpoints, declared once as typed dependencies."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import Forbidden, Unauthorized
from app.services.accounts import Principal, authenticate
from app.web.deps import SessionDep

_bearer = HTTPBearer(auto_error=False, description="An API token from `mmrare token create`")


async def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "this endpoint needs an API token: send 'Authorization: Bearer <token>' "
            "(create one with `mmrare token create --team NAME`)"
        )
    principal = await authenticate(session, credentials.credentials)
    if principal is None:
        raise Unauthorized("the API token is unknown or revoked; ask your team for a new one")
    request.state.principal = principal
    return principal


async def admin_principal(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    if not principal.is_admin:
        raise Forbidden("this endpoint is for maintainers: it needs an admin token")
    return principal


async def optional_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """For reads that show more to a token holder (a team's private submissions). No token:
    None; a token that is unknown or revoked is still refused (401), not silently ignored."""
    if credentials is None or not credentials.credentials:
        return None
    return await current_principal(request, session, credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
