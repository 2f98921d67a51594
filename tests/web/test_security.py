"""Pages that defend themselves: security headers on every kind of response, /docs served from
local files under the CSP, and a maintainer sign-in cookie that never holds the token."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.config import Settings
from app.db.base import utcnow
from app.db.models import ApiToken
from app.services.accounts import authenticate, hash_token
from app.unit_of_work import transaction
from app.web import admin_session
from app.web.middleware import SECURITY_HEADERS
from tests.integration.helpers import (
    InProcessApp,
    in_process_app,
    sign_in_admin,
    sqlite_template,
    web_settings,
)

COOKIE = "mmrare_admin"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def overrides() -> dict[str, object]:
    return {}


@pytest.fixture
def settings(template: Path, tmp_path: Path, overrides: dict[str, object]) -> Settings:
    return web_settings(template, tmp_path, **overrides)


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[InProcessApp]:
    async with in_process_app(settings) as env:
        yield env


async def test_every_kind_of_response_carries_the_security_headers(env: InProcessApp) -> None:
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    for directive in ("script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    for path, status in (
        ("/", 200),  # a page
        ("/api/v1/leaderboard", 200),  # an API route
        ("/no-such-page", 404),  # an error page
        ("/api/v1/no-such-thing", 404),  # a JSON error
        ("/docs", 200),
        ("/openapi.json", 200),
        ("/static/docs-init.js", 200),
    ):
        response = await env.client.get(path)
        assert response.status_code == status, path
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)


async def test_pages_run_no_inline_script(env: InProcessApp) -> None:
    for path in ("/", "/tracks/T1", "/submit", "/admin/login", "/docs", "/no-such-page"):
        page = await env.client.get(path)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
        assert all("src=" in attrs and not body.strip() for attrs, body in scripts), path
        assert not re.search(r"\son[a-z]+\s*=", page.text), path  # no event-handler attributes


async def test_docs_load_only_same_origin_files_that_are_served(env: InProcessApp) -> None:
    docs = await env.client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert len(urls) >= 3  # the bundle, its stylesheet and the start-up script
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = await env.client.get(url)
        assert asset.status_code == 200, url
    assert docs.text.count(".js") >= 2 and ".css" in docs.text
    assert (await env.client.get("/redoc")).status_code == 404  # not served: it needs a CDN


async def token_record(env: InProcessApp, token: str) -> tuple[int, str]:
    async with transaction(env.sessions) as session:
        principal = await authenticate(session, token)
    assert principal is not None
    return principal.token_id, hash_token(token)


async def test_the_sign_in_cookie_is_signed_expiring_and_never_the_token(
    env: InProcessApp, settings: Settings
) -> None:
    admin = await env.token("ops", admin=True)
    await sign_in_admin(env.client, admin)
    value = env.client.cookies[COOKIE]
    token_id, fingerprint = await token_record(env, admin)
    assert admin not in value and admin[4:] not in value and fingerprint not in value
    assert value.startswith(f"{token_id}.")
    assert (await env.client.get("/admin/audit")).status_code == 200

    key = settings.resolve_keys().admin_session_key
    future = time.time() + 3600
    refused = {
        "tampered expiry": value.replace(f"{token_id}.", f"{token_id}.9", 1),
        "tampered signature": value[:-1] + ("0" if value[-1] != "0" else "1"),
        "another token's id": f"{token_id + 1}." + value.split(".", 1)[1],
        "the raw token": admin,
        "expired": admin_session.issue(key, token_id, fingerprint, time.time() - 13 * 3600),
        "signed with another key": admin_session.issue(b"k" * 32, token_id, fingerprint, future),
        "another fingerprint": admin_session.issue(key, token_id, "0" * 64, future),
        "huge numbers": "9" * 5000 + ".1.x",
    }
    for case, forged in refused.items():
        env.client.cookies.set(COOKIE, forged)
        page = await env.client.get("/admin/audit")
        assert page.status_code == 401, case
        assert "sign in again at /admin/login" in page.text, case
        api = await env.client.get("/api/v1/admin/audit")
        assert api.status_code == 401 and api.json()["error"]["type"] == "Unauthorized", case


async def test_revoking_the_admin_token_ends_its_sessions(env: InProcessApp) -> None:
    admin = await env.token("ops", admin=True)
    await sign_in_admin(env.client, admin)
    assert (await env.client.get("/admin/audit")).status_code == 200
    token_id, _ = await token_record(env, admin)
    async with transaction(env.sessions) as session:
        record = await session.get(ApiToken, token_id)
        assert record is not None
        record.revoked_at = utcnow()
    assert (await env.client.get("/admin/audit")).status_code == 401


@pytest.mark.parametrize(("overrides", "secure"), [({}, False), ({"cookie_secure": True}, True)])
async def test_cookies_are_secure_when_the_setting_says_https(
    env: InProcessApp, secure: bool
) -> None:
    admin = await env.token("ops", admin=True)
    signed_in = await env.client.post("/admin/login", data={"token": admin})
    upload_form = await env.client.get("/submit")
    for response in (signed_in, upload_form):
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert ("Secure" in cookie) is secure, cookie
