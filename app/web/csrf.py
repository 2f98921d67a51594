"""CSRF protection for the HTML upload form: a signed double-submit token.

GET /submit sets a cookie holding `nonce.signature` (an HMAC of a random nonce under the
service's secret) and puts the same value in a hidden form field. A POST is accepted only when
the field equals the cookie and the signature is the server's. Another site can make a browser
post the form, but it can neither read the cookie nor plant one with a valid signature, so it
cannot fill in the field; the cookie is also SameSite=Strict.
"""

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from app.config import tokens_match
from app.errors import Forbidden
from app.web.deps import cookies_secure

COOKIE_NAME = "mmrare_csrf"
FIELD_NAME = "csrf_token"
COOKIE_PATH = "/submit"
SUBMISSIONS_PATH = "/submissions"
COOKIE_MAX_AGE = 12 * 3600


def _signature(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_token(secret: bytes) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_signature(secret, nonce)}"


def is_valid(secret: bytes, token: str | None) -> bool:
    if not token:
        return False
    nonce, _, signature = token.partition(".")
    return bool(nonce) and tokens_match(signature, _signature(secret, nonce))


def token_for(request: Request, secret: bytes) -> str:
    """The browser's current token if it is still valid (other open tabs keep working), or a
    new one."""
    current = request.cookies.get(COOKIE_NAME)
    return current if current and is_valid(secret, current) else new_token(secret)


def set_cookie(response: Response, request: Request, token: str, path: str = COOKIE_PATH) -> None:
    """`path`: the pages whose forms post with this cookie (the upload form's by default; a
    status page's action forms use SUBMISSIONS_PATH)."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=COOKIE_MAX_AGE,
        path=path,
        httponly=True,
        samesite="strict",
        secure=cookies_secure(request),
    )


def require_cookie(request: Request, secret: bytes) -> str:
    """Checked before the body is read: a POST without the form's cookie is refused at once."""
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        raise Forbidden(
            "this form needs its security cookie, which is missing: open the upload page "
            "(/submit) in this browser, with cookies enabled, and send the form from there"
        )
    if not is_valid(secret, cookie):
        raise Forbidden(
            "the form's security cookie was not issued by this server (or its key changed): "
            "reload the upload page (/submit) and send the form again"
        )
    return cookie


def verify(request: Request, secret: bytes, submitted: str | None) -> None:
    cookie = require_cookie(request, secret)
    if not submitted:
        raise Forbidden(
            f"the form has no {FIELD_NAME!r} field: send it from the upload page (/submit)"
        )
    if not tokens_match(cookie, submitted):
        raise Forbidden(
            "the form's security token does not match this browser's cookie (the page may be "
            "stale, or the form came from another site): reload /submit and send it again"
        )


def admin_form_token(secret: bytes, admin_token: str) -> str:
    """The maintainer pages' CSRF token: bound to the signed-in admin token, so it needs no
    cookie of its own, and unguessable without the service's secret."""
    return hmac.new(secret, b"csrf\x00" + admin_token.encode(), hashlib.sha256).hexdigest()
