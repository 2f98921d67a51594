"""A request that announces more body than it sends gets 408 (in the one error format) and its
connection closed, instead of holding it forever: a raw socket against the real server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from app.config import Settings
from tests.integration.helpers import serve, sqlite_template, team_token, web_settings

TIMEOUT_SECONDS = 1.0
DEADLINE_SECONDS = 15.0


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    template = sqlite_template(tmp_path_factory.mktemp("template"))
    directory = tmp_path_factory.mktemp("app")
    return web_settings(template, directory, request_body_timeout_seconds=TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with serve(settings) as url:
        yield url


def stalled_request(
    base_url: str, path: str, content_type: str, *headers: str, sent: bytes = b"name=abcde"
) -> tuple[bytes, float]:
    """Send headers promising 1000 bytes and only `sent` (10); read until the server closes (or the
    deadline passes). Returns what came back and how long the answer took."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=DEADLINE_SECONDS) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 1000\r\n"
            + "".join(f"{header}\r\n" for header in headers)
            + "\r\n"
        )
        started = time.monotonic()
        sock.sendall(head.encode() + sent)
        received = b""
        deadline = started + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:  # the server closed the connection
                break
            received += chunk
        return received, time.monotonic() - started


def test_a_stalled_body_is_answered_408_and_the_connection_closed(base_url: str) -> None:
    received, took = stalled_request(base_url, "/api/v1/models", "application/json")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b"connection: close" in head.lower()
    error = json.loads(body)["error"]
    assert error["type"] == "RequestTimeout" and "Content-Length" in error["message"]
    assert TIMEOUT_SECONDS <= took < DEADLINE_SECONDS  # answered, and the socket was closed


def test_a_stalled_page_form_gets_the_html_error_page(base_url: str) -> None:
    received, _ = stalled_request(base_url, "/admin/login", "application/x-www-form-urlencoded")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b"text/html" in head and b"Request Timeout" in body


def test_a_stalled_upload_is_answered_408(base_url: str, settings: Settings) -> None:
    token = team_token(settings.database_url, "alpha")
    received, _ = stalled_request(
        base_url,
        "/api/v1/submissions",
        "multipart/form-data; boundary=x",
        f"Authorization: Bearer {token}",
        sent=b"--x\r\nConte",  # a form's first part, cut short
    )
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), received[:300]
    assert json.loads(body)["error"]["type"] == "RequestTimeout"
